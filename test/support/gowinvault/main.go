//go:build windows

// gowinvault: an independent Go implementation of the Go olares-cli's Windows token store
// (reference notes §5.4), for the interoperability tests under Wine. It is not the Go CLI: it only
// reads and writes records the way the Go CLI's keychain package does.
//
//	gowinvault write <account> <jsonFile>   seal the file's bytes with DPAPI and store them
//	gowinvault read <account> <outFile>     write the record's plaintext to outFile; exit 3 when
//	                                        absent (any failure to open/read/decode/unprotect, as
//	                                        the reference reads it)
//	gowinvault purge                        delete the per-service key (missing = success)
//
// Layout: HKCU\Software\OlaresCli\keychain\<service>, value name = unpadded URL-safe base64 of
// the account, REG_SZ data = standard base64 of CryptProtectData(record) with
// CRYPTPROTECT_UI_FORBIDDEN and entropy service + "\x00" + account.
//
// Debian's golang-golang-x-sys-dev ships no windows/ tree, so the Win32 calls go through the
// standard library's syscall package, with the arguments golang.org/x/sys/windows passes.
package main

import (
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"syscall"
	"unicode/utf16"
	"unsafe"
)

const service = "olares-cli"

const (
	hkeyCurrentUser         = syscall.Handle(0x80000001)
	keyQueryValue           = 0x0001
	keySetValue             = 0x0002
	regSZ                   = 1
	regExpandSZ             = 2
	cryptprotectUIForbidden = 0x1
	errorFileNotFound       = syscall.Errno(2)
	errorMoreData           = syscall.Errno(234)
)

var (
	advapi32             = syscall.NewLazyDLL("advapi32.dll")
	crypt32              = syscall.NewLazyDLL("crypt32.dll")
	procRegCreateKeyExW  = advapi32.NewProc("RegCreateKeyExW")
	procRegSetValueExW   = advapi32.NewProc("RegSetValueExW")
	procRegDeleteKeyW    = advapi32.NewProc("RegDeleteKeyW")
	procCryptProtect     = crypt32.NewProc("CryptProtectData")
	procCryptUnprotect   = crypt32.NewProc("CryptUnprotectData")
	unsafeRegistryRunes  = regexp.MustCompile(`[^a-zA-Z0-9._-]`)
	errNotPresentAtAll   = errors.New("not present")
	errUnexpectedRegType = errors.New("value is not a string")
)

type dataBlob struct {
	size uint32
	data *byte
}

func keyPath() string {
	return `Software\OlaresCli\keychain\` + unsafeRegistryRunes.ReplaceAllString(strings.ReplaceAll(service, `\`, "_"), "_")
}

func valueName(account string) string { return base64.RawURLEncoding.EncodeToString([]byte(account)) }

func blobOf(b []byte) *dataBlob {
	if len(b) == 0 {
		return &dataBlob{}
	}
	return &dataBlob{size: uint32(len(b)), data: &b[0]}
}

func entropy(account string) *dataBlob { return blobOf([]byte(service + "\x00" + account)) }

func dpapi(proc *syscall.LazyProc, in []byte, account string) ([]byte, error) {
	var out dataBlob
	r, _, err := proc.Call(
		uintptr(unsafe.Pointer(blobOf(in))), 0, uintptr(unsafe.Pointer(entropy(account))), 0, 0,
		cryptprotectUIForbidden, uintptr(unsafe.Pointer(&out)))
	if r == 0 {
		return nil, fmt.Errorf("%s: %w", proc.Name, err)
	}
	defer syscall.LocalFree(syscall.Handle(unsafe.Pointer(out.data)))
	if out.data == nil || out.size == 0 {
		return []byte{}, nil
	}
	return append([]byte(nil), unsafe.Slice(out.data, int(out.size))...), nil
}

func utf16z(s string) *uint16 {
	p, err := syscall.UTF16PtrFromString(s)
	if err != nil {
		panic(err)
	}
	return p
}

func regErr(name string, r uintptr) error {
	if r == 0 {
		return nil
	}
	return fmt.Errorf("%s: %w", name, syscall.Errno(r))
}

func write(account, jsonFile string) error {
	plain, err := os.ReadFile(jsonFile)
	if err != nil {
		return err
	}
	sealed, err := dpapi(procCryptProtect, plain, account)
	if err != nil {
		return err
	}
	var key syscall.Handle
	var disposition uint32
	r, _, _ := procRegCreateKeyExW.Call(uintptr(hkeyCurrentUser), uintptr(unsafe.Pointer(utf16z(keyPath()))), 0, 0, 0,
		keySetValue, 0, uintptr(unsafe.Pointer(&key)), uintptr(unsafe.Pointer(&disposition)))
	if err := regErr("RegCreateKeyExW", r); err != nil {
		return err
	}
	defer syscall.RegCloseKey(key)
	// REG_SZ data includes the terminating NUL, as SetStringValue writes it.
	data := utf16.Encode([]rune(base64.StdEncoding.EncodeToString(sealed) + "\x00"))
	r, _, _ = procRegSetValueExW.Call(uintptr(key), uintptr(unsafe.Pointer(utf16z(valueName(account)))), 0, regSZ,
		uintptr(unsafe.Pointer(&data[0])), uintptr(len(data)*2))
	return regErr("RegSetValueExW", r)
}

func readString(key syscall.Handle, name string) (string, error) {
	size := uint32(64)
	for {
		buf := make([]uint16, size/2+1)
		var typ uint32
		n := uint32(len(buf) * 2)
		err := syscall.RegQueryValueEx(key, utf16z(name), nil, &typ, (*byte)(unsafe.Pointer(&buf[0])), &n)
		if err == errorMoreData {
			size = n
			continue
		}
		if err != nil {
			return "", err
		}
		if typ != regSZ && typ != regExpandSZ {
			return "", errUnexpectedRegType
		}
		return syscall.UTF16ToString(buf[:n/2]), nil
	}
}

func read(account string) (string, error) {
	var key syscall.Handle
	if err := syscall.RegOpenKeyEx(hkeyCurrentUser, utf16z(keyPath()), 0, keyQueryValue, &key); err != nil {
		return "", errNotPresentAtAll
	}
	defer syscall.RegCloseKey(key)
	text, err := readString(key, valueName(account))
	if err != nil || text == "" {
		return "", errNotPresentAtAll
	}
	sealed, err := base64.StdEncoding.DecodeString(text)
	if err != nil {
		return "", errNotPresentAtAll
	}
	plain, err := dpapi(procCryptUnprotect, sealed, account)
	if err != nil {
		return "", errNotPresentAtAll
	}
	return string(plain), nil
}

func purge() error {
	r, _, _ := procRegDeleteKeyW.Call(uintptr(hkeyCurrentUser), uintptr(unsafe.Pointer(utf16z(keyPath()))))
	if syscall.Errno(r) == errorFileNotFound {
		return nil
	}
	return regErr("RegDeleteKeyW", r)
}

func main() {
	args := os.Args[1:]
	var err error
	switch {
	case len(args) == 3 && args[0] == "write":
		err = write(args[1], args[2])
	case len(args) == 3 && args[0] == "read":
		var plain string
		plain, err = read(args[1])
		if errors.Is(err, errNotPresentAtAll) {
			os.Exit(3)
		}
		if err == nil {
			err = os.WriteFile(args[2], []byte(plain), 0o600)
		}
	case len(args) == 1 && args[0] == "purge":
		err = purge()
	default:
		err = errors.New("usage: gowinvault write <account> <jsonFile> | read <account> <outFile> | purge")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gowinvault:", err)
		os.Exit(1)
	}
}
