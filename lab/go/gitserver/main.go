// The lab's Git server: github.com/fluxcd/gitkit serving bare repositories over SSH on one address,
// to the public keys listed in an authorized_keys file (read at each connection, so keys can be added
// while it runs). gitkit generates its RSA host key in the key directory when none is there.
// Optionally the same repositories, read-only and anonymous, over smart HTTP on a second address (what
// a public Git host offers, e.g. for a kustomize remote base), served by Git's own git-http-backend.
// `git-server deliver` is its post-receive hook: it calls each webhook registered for the repository, as a
// Git host does on push (see deliver.go).
package main

import (
	"bufio"
	"flag"
	"fmt"
	"log"
	"net/http"
	"net/http/cgi"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/fluxcd/gitkit"
	"golang.org/x/crypto/ssh"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "deliver" {
		deliverMain(os.Args[2:])
		return
	}
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	repos := flag.String("repos", "", "directory of bare repositories (created on first push)")
	keys := flag.String("host-key-dir", "", "directory of the server's host key")
	authorized := flag.String("authorized-keys", "", "authorized_keys file of the clients allowed in")
	httpListen := flag.String("http-listen", "", "address for anonymous, read-only smart HTTP (none when empty)")
	flag.Parse()
	if *repos == "" || *keys == "" || *authorized == "" {
		log.Fatal("--repos, --host-key-dir and --authorized-keys are required")
	}

	server := gitkit.NewSSH(gitkit.Config{Dir: *repos, KeyDir: *keys, AutoCreate: true, Auth: true, GitUser: "git"})
	server.PublicKeyLookupFunc = func(content string) (*gitkit.PublicKey, error) {
		offered, _, _, _, err := ssh.ParseAuthorizedKey([]byte(content))
		if err != nil {
			return nil, err
		}
		fingerprint := ssh.FingerprintSHA256(offered)
		f, err := os.Open(*authorized)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		lines := bufio.NewScanner(f)
		for lines.Scan() {
			line := strings.TrimSpace(lines.Text())
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			key, comment, _, _, err := ssh.ParseAuthorizedKey([]byte(line))
			if err == nil && ssh.FingerprintSHA256(key) == fingerprint {
				return &gitkit.PublicKey{Id: fingerprint, Name: comment, Fingerprint: fingerprint, Content: content}, nil
			}
		}
		return nil, fmt.Errorf("key %s is not authorized", fingerprint)
	}
	if *httpListen != "" {
		execPath, err := exec.Command("git", "--exec-path").Output()
		if err != nil {
			log.Fatalf("git --exec-path: %v", err)
		}
		// Without an authenticated user git-http-backend serves fetches only (http.receivepack is off).
		public := &cgi.Handler{
			Path: filepath.Join(strings.TrimSpace(string(execPath)), "git-http-backend"),
			Env:  []string{"GIT_PROJECT_ROOT=" + *repos, "GIT_HTTP_EXPORT_ALL=1"},
		}
		go func() { log.Fatal(http.ListenAndServe(*httpListen, public)) }()
	}
	if err := server.Listen(*listen); err != nil {
		log.Fatal(err)
	}
	log.Printf("serving %s over SSH", *repos)
	if err := server.Serve(); err != nil {
		log.Fatal(err)
	}
}
