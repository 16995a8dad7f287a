// The lab's Git server: github.com/fluxcd/gitkit serving bare repositories over SSH on one address,
// to the public keys listed in an authorized_keys file (read at each connection, so keys can be added
// while it runs). gitkit generates its RSA host key in the key directory when none is there.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"log"
	"os"
	"strings"

	"github.com/fluxcd/gitkit"
	"golang.org/x/crypto/ssh"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	repos := flag.String("repos", "", "directory of bare repositories (created on first push)")
	keys := flag.String("host-key-dir", "", "directory of the server's host key")
	authorized := flag.String("authorized-keys", "", "authorized_keys file of the clients allowed in")
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
	if err := server.Listen(*listen); err != nil {
		log.Fatal(err)
	}
	log.Printf("serving %s over SSH", *repos)
	if err := server.Serve(); err != nil {
		log.Fatal(err)
	}
}
