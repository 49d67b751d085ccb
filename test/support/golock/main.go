// golock: a stand-in for the Go olares-cli's locking discipline, built on the same library
// (github.com/gofrs/flock), for the interoperability tests. It is not the Go CLI: it only locks,
// writes config.json and rotates a token the way the Go CLI does.
//
//	golock hold <lockfile> <ms>                  Lock (blocking), print "locked", hold, unlock, print "released"
//	golock try <lockfile>                        one TryLock: print "locked" (and unlock) or "busy"
//	golock config <home> <olaresId>              under <home>/locks/config.lock (10 s, 100 ms polls):
//	                                             read config.json, append a profile, write it atomically
//	golock rotate <home> <datadir> <olaresId> <authURL> [--nolock] [--wait-stdin] [--hold <ms>]
//	                                             under <home>/locks/<id>.refresh.lock (30 s, 100 ms polls):
//	                                             print "locked" (then, with --wait-stdin, wait for a line
//	                                             on stdin); re-read the record; if its access token has
//	                                             expired (the Go CLI's reason to refresh), POST
//	                                             /api/refresh and store the new grant ("refreshed"),
//	                                             else someone did already ("stored"); keep the lock <ms>
package main

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gofrs/flock"
)

func die(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "golock: "+format+"\n", args...)
	os.Exit(2)
}

// lockWithin polls TryLock like the Go CLI's lockfile package: every 100 ms, bounded.
func lockWithin(path string, d time.Duration) *flock.Flock {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		die("mkdir: %v", err)
	}
	l := flock.New(path)
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	ok, err := l.TryLockContext(ctx, 100*time.Millisecond)
	if err != nil || !ok {
		die("acquire lock %s: %v", path, err)
	}
	return l
}

func writeAtomic(path string, data []byte) {
	tmp := fmt.Sprintf("%s.golock-%d.tmp", path, os.Getpid())
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		die("write: %v", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		die("rename: %v", err)
	}
}

var unsafeFile = regexp.MustCompile(`[^a-zA-Z0-9._-]`)
var unsafeLock = regexp.MustCompile(`[/\\:*?"<>|\x00-\x1f]`)

func refreshLock(home, id string) string {
	name := unsafeLock.ReplaceAllString(id, "_")
	if name == "" {
		name = "_"
	}
	return filepath.Join(home, "locks", name+".refresh.lock")
}

type record = map[string]interface{}

func readRecord(dataDir, id string) (record, []byte) {
	key, err := os.ReadFile(filepath.Join(dataDir, "master.key"))
	if err != nil || len(key) != 32 {
		die("master key: %v", err)
	}
	blob, err := os.ReadFile(filepath.Join(dataDir, unsafeFile.ReplaceAllString(id, "_")+".enc"))
	if err != nil {
		die("record: %v", err)
	}
	block, _ := aes.NewCipher(key)
	gcm, _ := cipher.NewGCM(block)
	plain, err := gcm.Open(nil, blob[:12], blob[12:], nil)
	if err != nil {
		die("decrypt: %v", err)
	}
	var r record
	if err := json.Unmarshal(plain, &r); err != nil {
		die("record json: %v", err)
	}
	return r, key
}

func writeRecord(dataDir, id string, r record, key []byte) {
	plain, _ := json.Marshal(r)
	block, _ := aes.NewCipher(key)
	gcm, _ := cipher.NewGCM(block)
	nonce := make([]byte, 12)
	if _, err := rand.Read(nonce); err != nil {
		die("nonce: %v", err)
	}
	writeAtomic(filepath.Join(dataDir, unsafeFile.ReplaceAllString(id, "_")+".enc"), gcm.Seal(nonce, nonce, plain, nil))
}

// expired reports whether a JWT's exp claim is in the past (an unreadable token counts as expired).
func expired(jwt string) bool {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return true
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return true
	}
	var claims struct {
		Exp int64 `json:"exp"`
	}
	if json.Unmarshal(payload, &claims) != nil {
		return true
	}
	return claims.Exp <= time.Now().Unix()
}

func rotate(home, dataDir, id, authURL string, nolock, waitStdin bool, hold time.Duration) {
	if !nolock {
		l := lockWithin(refreshLock(home, id), 30*time.Second)
		defer l.Unlock()
	}
	fmt.Println("locked")
	if waitStdin {
		line := make([]byte, 1)
		os.Stdin.Read(line)
	}
	r, key := readRecord(dataDir, id)
	if !expired(fmt.Sprint(r["accessToken"])) {
		fmt.Println("stored")
	} else {
		body, _ := json.Marshal(map[string]string{"refreshToken": fmt.Sprint(r["refreshToken"])})
		resp, err := http.Post(strings.TrimRight(authURL, "/")+"/api/refresh", "application/json", bytes.NewReader(body))
		if err != nil {
			die("refresh: %v", err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			fmt.Printf("rejected %d\n", resp.StatusCode)
			os.Exit(1)
		}
		var reply struct {
			Data struct {
				AccessToken  string `json:"access_token"`
				RefreshToken string `json:"refresh_token"`
			} `json:"data"`
		}
		if err := json.Unmarshal(raw, &reply); err != nil {
			die("refresh reply: %v", err)
		}
		r["accessToken"] = reply.Data.AccessToken
		if reply.Data.RefreshToken != "" {
			r["refreshToken"] = reply.Data.RefreshToken
		}
		r["grantedAt"] = time.Now().UnixMilli()
		delete(r, "invalidatedAt")
		writeRecord(dataDir, id, r, key)
		fmt.Println("refreshed")
	}
	time.Sleep(hold)
}

func main() {
	a := os.Args[1:]
	if len(a) < 2 {
		die("usage: see the source")
	}
	switch a[0] {
	case "hold":
		ms, _ := strconv.Atoi(a[2])
		if err := os.MkdirAll(filepath.Dir(a[1]), 0o700); err != nil {
			die("mkdir: %v", err)
		}
		l := flock.New(a[1])
		if err := l.Lock(); err != nil {
			die("lock: %v", err)
		}
		fmt.Println("locked")
		time.Sleep(time.Duration(ms) * time.Millisecond)
		l.Unlock()
		fmt.Println("released")
	case "try":
		l := flock.New(a[1])
		ok, err := l.TryLock()
		if err != nil {
			die("trylock: %v", err)
		}
		if ok {
			l.Unlock()
			fmt.Println("locked")
		} else {
			fmt.Println("busy")
		}
	case "config":
		home, id := a[1], a[2]
		l := lockWithin(filepath.Join(home, "locks", "config.lock"), 10*time.Second)
		defer l.Unlock()
		path := filepath.Join(home, "config.json")
		cfg := map[string]interface{}{}
		if raw, err := os.ReadFile(path); err == nil {
			if err := json.Unmarshal(raw, &cfg); err != nil {
				die("config json: %v", err)
			}
		}
		profiles, _ := cfg["profiles"].([]interface{})
		cfg["profiles"] = append(profiles, map[string]interface{}{"olaresId": id})
		out, _ := json.MarshalIndent(cfg, "", "  ")
		writeAtomic(path, out)
		fmt.Println("ok")
	case "rotate":
		if len(a) < 5 {
			die("rotate <home> <datadir> <olaresId> <authURL> [--nolock] [--wait-stdin] [--hold <ms>]")
		}
		nolock, waitStdin := false, false
		hold := time.Duration(0)
		for i := 5; i < len(a); i++ {
			switch a[i] {
			case "--nolock":
				nolock = true
			case "--wait-stdin":
				waitStdin = true
			case "--hold":
				i++
				ms, _ := strconv.Atoi(a[i])
				hold = time.Duration(ms) * time.Millisecond
			}
		}
		rotate(a[1], a[2], a[3], a[4], nolock, waitStdin, hold)
	default:
		die("unknown command %s", a[0])
	}
}
