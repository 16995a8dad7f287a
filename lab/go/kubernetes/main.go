// pulumi-resource-kubernetes for the lab: the provider of github.com/pulumi/pulumi-kubernetes/provider/v4, served
// with the schema and Terraform mapping its module ships (its own main embeds files generated at release time, which
// the module does not hold; the build copies the shipped ones into schema/, an ignored folder).
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)

//go:embed schema/schema.json
var schema []byte

//go:embed schema/terraform-mapping.json
var terraformMapping []byte

func main() {
	provider.Serve("kubernetes", version.Version, schema, terraformMapping)
}
