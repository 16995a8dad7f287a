// The lab's SSH Git server, on github.com/fluxcd/gitkit (the server Flux's own tests use).
module flux-multi-tenancy/lab/gitserver

go 1.26.0

require (
	github.com/fluxcd/gitkit v0.6.0
	golang.org/x/crypto v0.53.0
)

require (
	github.com/gofrs/uuid v4.2.0+incompatible // indirect
	golang.org/x/sys v0.46.0 // indirect
)
