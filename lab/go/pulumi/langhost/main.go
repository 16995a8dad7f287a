// A Node.js language host for the lab's Pulumi engine. Pulumi's own (module
// github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3) is not served by the Go module
// proxy, so this small one of ours speaks the same LanguageRuntime protocol: it runs a program with
// the program's own @pulumi/pulumi run harness (node_modules/@pulumi/pulumi/cmd/run), passing what
// the harness reads (flags, and config, secret keys and TypeScript settings in the environment).
// Dependencies are installed by npm beforehand; plugins are found by the engine itself.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
)

// version is set at build time to the Pulumi release the lab's CLI is.
var version = "0.0.0"

// bailExitCode is the run harness's "an error was already reported to the engine" exit code.
const bailExitCode = 32

type host struct {
	pulumirpc.UnimplementedLanguageRuntimeServer
	engine string
}

func (h *host) Handshake(_ context.Context, req *pulumirpc.LanguageHandshakeRequest) (*pulumirpc.LanguageHandshakeResponse, error) {
	if req.GetEngineAddress() != "" {
		h.engine = req.GetEngineAddress()
	}
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *host) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

// Plugins are not installed by the lab's engine (no network); the engine loads each on first use.
func (h *host) GetRequiredPlugins(context.Context, *pulumirpc.GetRequiredPluginsRequest) (*pulumirpc.GetRequiredPluginsResponse, error) {
	return &pulumirpc.GetRequiredPluginsResponse{}, nil
}

func (h *host) GetRequiredPackages(context.Context, *pulumirpc.GetRequiredPackagesRequest) (*pulumirpc.GetRequiredPackagesResponse, error) {
	return &pulumirpc.GetRequiredPackagesResponse{}, nil
}

// option reads a runtime option of Pulumi.yaml (runtime.options), with a default.
func option(info *pulumirpc.ProgramInfo, name string, def any) any {
	if info.GetOptions() == nil {
		return def
	}
	if v, ok := info.GetOptions().AsMap()[name]; ok {
		return v
	}
	return def
}

func (h *host) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	info := req.GetInfo()
	programDir := info.GetProgramDirectory()
	if programDir == "" {
		programDir = req.GetPwd()
	}
	harness := filepath.Join(programDir, "node_modules", "@pulumi", "pulumi", "cmd", "run")
	if _, err := os.Stat(harness); err != nil {
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("no @pulumi/pulumi in %s: run npm ci there first (%v)", programDir, err)}, nil
	}
	config, err := json.Marshal(req.GetConfig())
	if err != nil {
		return nil, err
	}
	secretKeys, err := json.Marshal(req.GetConfigSecretKeys())
	if err != nil {
		return nil, err
	}

	var args []string
	if nodeargs, ok := option(info, "nodeargs", "").(string); ok && nodeargs != "" {
		args = append(args, strings.Fields(nodeargs)...)
	}
	args = append(args, harness,
		"--monitor="+req.GetMonitorAddress(),
		"--engine="+h.engine,
		"--project="+req.GetProject(),
		"--stack="+req.GetStack(),
		"--pwd="+req.GetPwd(),
		"--parallel="+strconv.Itoa(int(req.GetParallel())),
		"--root-directory="+info.GetRootDirectory(),
	)
	if req.GetOrganization() != "" {
		args = append(args, "--organization="+req.GetOrganization())
	}
	if req.GetDryRun() {
		args = append(args, "--dry-run")
	}
	program := programDir
	if entry := info.GetEntryPoint(); entry != "" && entry != "." {
		program = filepath.Join(programDir, entry)
	}
	args = append(args, program)
	args = append(args, req.GetArgs()...)

	cmd := exec.CommandContext(ctx, "node", args...)
	cmd.Dir = req.GetPwd()
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	cmd.Env = append(os.Environ(),
		"PULUMI_CONFIG="+string(config),
		"PULUMI_CONFIG_SECRET_KEYS="+string(secretKeys),
		fmt.Sprintf("PULUMI_NODEJS_TYPESCRIPT=%v", option(info, "typescript", true)),
	)
	if tsconfig, ok := option(info, "tsconfig", "").(string); ok && tsconfig != "" {
		cmd.Env = append(cmd.Env, "PULUMI_NODEJS_TSCONFIG_PATH="+tsconfig)
	}
	err = cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return &pulumirpc.RunResponse{}, nil
	case errors.As(err, &exit) && exit.ExitCode() == bailExitCode:
		return &pulumirpc.RunResponse{Bail: true}, nil
	case errors.As(err, &exit):
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("the Node.js program exited with code %d", exit.ExitCode())}, nil
	default:
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("could not run node: %v", err)}, nil
	}
}

// InstallDependencies finds the dependencies installed: in the lab npm installs them beforehand (npm ci in the project),
// and nothing is fetched while the lab runs. A directory without them is refused with the command that installs them.
func (h *host) InstallDependencies(req *pulumirpc.InstallDependenciesRequest, _ pulumirpc.LanguageRuntime_InstallDependenciesServer) error {
	dir := req.GetInfo().GetProgramDirectory()
	if dir == "" {
		dir = req.GetDirectory()
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@pulumi", "pulumi", "package.json")); err != nil {
		return fmt.Errorf("the lab installs no dependencies: run npm ci in %s first (%v)", dir, err)
	}
	return nil
}

// RunPlugin runs a source-based plugin written for Node.js (PulumiPlugin.yaml, runtime nodejs), such as this
// project's FluxFleet package: the plugin's own @pulumi/pulumi run-plugin harness loads its directory and, finding
// components among its exports, serves them as a provider. The plugin prints its port first, as every provider does.
func (h *host) RunPlugin(req *pulumirpc.RunPluginRequest, server pulumirpc.LanguageRuntime_RunPluginServer) error {
	closer, stdout, stderr, err := rpcutil.MakeRunPluginStreams(server, false)
	if err != nil {
		return err
	}
	defer closer.Close()
	info := req.GetInfo()
	dir := info.GetProgramDirectory()
	harness := filepath.Join(dir, "node_modules", "@pulumi", "pulumi", "cmd", "run-plugin")
	if _, err := os.Stat(harness); err != nil {
		return fmt.Errorf("no @pulumi/pulumi in the plugin's directory %s: run npm ci there first (%v)", dir, err)
	}
	var args []string
	if nodeargs, ok := option(info, "nodeargs", "").(string); ok && nodeargs != "" {
		args = append(args, strings.Fields(nodeargs)...)
	}
	args = append(args, harness, dir)
	args = append(args, req.GetArgs()...)
	cmd := exec.Command("node", args...)
	// As Pulumi's own host: in the engine's directory (not the plugin's), so the harness type-checks without the plugin's tsconfig.json.
	cmd.Dir = req.GetPwd()
	cmd.Env = append(req.GetEnv(), fmt.Sprintf("PULUMI_NODEJS_TYPESCRIPT=%v", option(info, "typescript", true)))
	if tsconfig, ok := option(info, "tsconfig", "").(string); ok && tsconfig != "" {
		cmd.Env = append(cmd.Env, "PULUMI_NODEJS_TSCONFIG_PATH="+tsconfig)
	}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return fmt.Errorf("the Node.js plugin in %s exited with code %d", dir, exit.ExitCode())
		}
		return fmt.Errorf("could not run node: %w", err)
	}
	return closer.Close()
}

func main() {
	// The engine passes flags (tracing, logging) and, last, its own address.
	h := &host{}
	if len(os.Args) > 1 {
		h.engine = os.Args[len(os.Args)-1]
	}
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, h)
			return nil
		},
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "language host: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		fmt.Fprintf(os.Stderr, "language host: %v\n", err)
		os.Exit(1)
	}
}
