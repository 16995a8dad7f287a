package main

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// webhook is one registered delivery target of a repository: its URL and the secret that signs each delivery.
type webhook struct {
	URL    string `json:"url"`
	Secret string `json:"secret"`
}

// pushEvent is the part of GitHub's push event payload a receiver reads.
type pushEvent struct {
	Ref        string `json:"ref"`
	Before     string `json:"before"`
	After      string `json:"after"`
	Deleted    bool   `json:"deleted"`
	Repository struct {
		Name     string `json:"name"`
		FullName string `json:"full_name"`
	} `json:"repository"`
}

const zeroID = "0000000000000000000000000000000000000000"

// deliverMain runs as the post-receive hook, in the bare repository's directory, with Git's
// "<old> <new> <ref>" lines on stdin. Each webhook listed for the repository in the webhooks file
// (read now, so the file may change while the server runs) gets one POST per updated ref, the way
// GitHub delivers a push: a JSON push event, X-GitHub-Event: push, a delivery id, and with a secret
// X-Hub-Signature-256 (HMAC-SHA256 of the body). What each answered is printed back to the pusher.
// A failed delivery does not fail the push (the refs are already updated), as on a Git host.
func deliverMain(args []string) {
	fs := flag.NewFlagSet("deliver", flag.ExitOnError)
	hooksFile := fs.String("webhooks", "", "JSON file: repository path (relative to --repos, without .git) -> webhooks")
	repos := fs.String("repos", "", "directory of bare repositories")
	fs.Parse(args)
	cwd, err := os.Getwd()
	if err != nil {
		fmt.Fprintf(os.Stderr, "webhooks: %v\n", err)
		return
	}
	rel, err := filepath.Rel(*repos, cwd)
	if err != nil {
		fmt.Fprintf(os.Stderr, "webhooks: %v\n", err)
		return
	}
	repo := strings.TrimSuffix(filepath.ToSlash(rel), ".git")
	hooks := map[string][]webhook{}
	if text, err := os.ReadFile(*hooksFile); err == nil {
		if err := json.Unmarshal(text, &hooks); err != nil {
			fmt.Fprintf(os.Stderr, "webhooks: %s: %v\n", *hooksFile, err)
			return
		}
	}
	targets := hooks[repo]
	if len(targets) == 0 {
		return
	}
	client := &http.Client{Timeout: 10 * time.Second}
	lines := bufio.NewScanner(os.Stdin)
	for lines.Scan() {
		f := strings.Fields(lines.Text())
		if len(f) != 3 {
			continue
		}
		var e pushEvent
		e.Before, e.After, e.Ref = f[0], f[1], f[2]
		e.Deleted = e.After == zeroID
		e.Repository.Name = filepath.Base(repo)
		e.Repository.FullName = repo
		body, _ := json.Marshal(e)
		for _, h := range targets {
			fmt.Printf("webhook %s: %s\n", h.URL, send(client, h, body))
		}
	}
}

func send(client *http.Client, h webhook, body []byte) string {
	req, err := http.NewRequest(http.MethodPost, h.URL, bytes.NewReader(body))
	if err != nil {
		return err.Error()
	}
	id := make([]byte, 16)
	rand.Read(id)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "flux-lab-git-server")
	req.Header.Set("X-GitHub-Event", "push")
	req.Header.Set("X-GitHub-Delivery", hex.EncodeToString(id))
	if h.Secret != "" {
		mac := hmac.New(sha256.New, []byte(h.Secret))
		mac.Write(body)
		req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	}
	res, err := client.Do(req)
	if err != nil {
		return err.Error()
	}
	res.Body.Close()
	return res.Status
}
