package main

import (
	"bytes"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// merge-pem: a certificate chain and its private key into one PEM file (mode 0600), as Squid's
// ssl-bump wants them. The certificates must be X.509 and the key must belong to the first one
// (its public key is compared with the certificate's: RSA keys, and EC keys that carry their
// public key, as OpenSSL and Go write them). A small DER reader of its own rather than
// crypto/x509, which would double the binary's size.

type pemBlock struct {
	label string
	text  string // the whole block, \r\n made \n
	der   []byte
}

func isBase64Char(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '='
}

// pemBlocks finds "-----BEGIN L-----\n<base64>\n-----END L-----" blocks with a non-empty body.
func pemBlocks(text string) []pemBlock {
	var out []pemBlock
	const begin = "-----BEGIN "
	for i := 0; ; {
		j := strings.Index(text[i:], begin)
		if j < 0 {
			return out
		}
		start := i + j
		i = start + 1
		p := start + len(begin)
		q := p
		for q < len(text) && (text[q] >= 'A' && text[q] <= 'Z' || text[q] >= '0' && text[q] <= '9' || text[q] == ' ') {
			q++
		}
		if q == p || !strings.HasPrefix(text[q:], "-----") {
			continue
		}
		label := text[p:q]
		b := q + 5
		if strings.HasPrefix(text[b:], "\r\n") {
			b += 2
		} else if strings.HasPrefix(text[b:], "\n") {
			b++
		} else {
			continue
		}
		e := b
		for e < len(text) && (isBase64Char(text[e]) || text[e] == '\r' || text[e] == '\n') {
			e++
		}
		end := "-----END " + label + "-----"
		if !strings.HasPrefix(text[e:], end) {
			continue
		}
		body := strings.TrimSuffix(strings.TrimSuffix(text[b:e], "\n"), "\r")
		if body == "" {
			continue
		}
		der := decodeBase64(body)
		if len(der) == 0 {
			continue
		}
		out = append(out, pemBlock{label, strings.ReplaceAll(text[start:e+len(end)], "\r\n", "\n"), der})
		i = e + len(end)
	}
}

func decodeBase64(body string) []byte {
	s := strings.NewReplacer("\r", "", "\n", "").Replace(body)
	if b, err := base64.StdEncoding.DecodeString(s); err == nil {
		return b
	}
	b, _ := base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
	return b
}

// A minimal DER reader: enough of X.509 and of the private key formats to check structure and
// compare public keys.

type tlv struct {
	tag     byte
	content []byte
}

var errDER = errors.New("malformed DER")

// readTLV reads one element (single-byte tags; definite lengths up to 4 bytes).
func readTLV(b []byte) (tlv, []byte, error) {
	if len(b) < 2 || b[0]&0x1f == 0x1f {
		return tlv{}, nil, errDER
	}
	tag, n := b[0], int(b[1])
	b = b[2:]
	if n&0x80 != 0 {
		k := n & 0x7f
		if k == 0 || k > 4 || len(b) < k {
			return tlv{}, nil, errDER
		}
		n = 0
		for _, c := range b[:k] {
			n = n<<8 | int(c)
		}
		b = b[k:]
	}
	if n < 0 || n > len(b) {
		return tlv{}, nil, errDER
	}
	return tlv{tag, b[:n]}, b[n:], nil
}

// readAll reads the elements of a constructed value.
func readAll(b []byte) ([]tlv, error) {
	var out []tlv
	for len(b) > 0 {
		t, rest, err := readTLV(b)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
		b = rest
	}
	return out, nil
}

// sequence reads b as exactly one SEQUENCE and returns its elements.
func sequence(b []byte) ([]tlv, error) {
	t, rest, err := readTLV(b)
	if err != nil {
		return nil, err
	}
	if t.tag != 0x30 {
		return nil, errors.New("not a SEQUENCE")
	}
	if len(rest) > 0 {
		return nil, errors.New("trailing data after the SEQUENCE")
	}
	return readAll(t.content)
}

const (
	tagInteger   = 0x02
	tagBitString = 0x03
	tagOctets    = 0x04
	tagOID       = 0x06
	tagSequence  = 0x30
)

var (
	oidRSA     = []byte{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01}
	oidEC      = []byte{0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01}
	oidEd25519 = []byte{0x2b, 0x65, 0x70}
)

// publicKey is a key's algorithm and its public part, in the certificate's encoding: the curve
// and point for EC, the modulus and exponent for RSA, the key for Ed25519.
type publicKey struct {
	alg    []byte
	curve  []byte
	public []byte
	rsaN   []byte
	rsaE   []byte
}

// certificate checks the structure of an X.509 certificate and returns its public key.
func parseCertificate(der []byte) (*publicKey, error) {
	cert, err := sequence(der)
	if err != nil {
		return nil, err
	}
	if len(cert) != 3 || cert[0].tag != tagSequence || cert[1].tag != tagSequence || cert[2].tag != tagBitString {
		return nil, errors.New("not a Certificate (tbsCertificate, signatureAlgorithm, signature)")
	}
	tbs, err := readAll(cert[0].content)
	if err != nil {
		return nil, err
	}
	if len(tbs) > 0 && tbs[0].tag == 0xa0 { // [0] version
		tbs = tbs[1:]
	}
	if len(tbs) < 6 || tbs[0].tag != tagInteger {
		return nil, errors.New("bad tbsCertificate")
	}
	for _, t := range tbs[1:6] {
		if t.tag != tagSequence {
			return nil, errors.New("bad tbsCertificate")
		}
	}
	spki, err := readAll(tbs[5].content)
	if err != nil || len(spki) != 2 || spki[0].tag != tagSequence || spki[1].tag != tagBitString {
		return nil, errors.New("bad SubjectPublicKeyInfo")
	}
	alg, err := readAll(spki[0].content)
	if err != nil || len(alg) == 0 || alg[0].tag != tagOID {
		return nil, errors.New("bad algorithm")
	}
	bits := spki[1].content
	if len(bits) == 0 || bits[0] != 0 {
		return nil, errors.New("bad public key")
	}
	pk := &publicKey{alg: alg[0].content, public: bits[1:]}
	switch {
	case bytes.Equal(pk.alg, oidEC):
		if len(alg) < 2 || alg[1].tag != tagOID {
			return nil, errors.New("EC key without a named curve")
		}
		pk.curve = alg[1].content
	case bytes.Equal(pk.alg, oidRSA):
		ne, err := sequence(pk.public)
		if err != nil || len(ne) != 2 || ne[0].tag != tagInteger || ne[1].tag != tagInteger {
			return nil, errors.New("bad RSA public key")
		}
		pk.rsaN, pk.rsaE = ne[0].content, ne[1].content
	}
	return pk, nil
}

// privateKey reads a private key's public part: RSA (PKCS#1 or PKCS#8) and EC keys that carry
// their public key (SEC1 or PKCS#8, as OpenSSL and Go write them).
func parsePrivateKey(label string, der []byte) (*publicKey, error) {
	switch label {
	case "ENCRYPTED PRIVATE KEY":
		return nil, errors.New("encrypted keys are not supported")
	case "RSA PRIVATE KEY":
		return parseRSAKey(der)
	case "EC PRIVATE KEY":
		return parseECKey(der, nil)
	}
	p, err := sequence(der)
	if err != nil || len(p) < 3 || p[0].tag != tagInteger || p[1].tag != tagSequence || p[2].tag != tagOctets {
		if k, err := parseRSAKey(der); err == nil {
			return k, nil
		}
		if k, err := parseECKey(der, nil); err == nil {
			return k, nil
		}
		return nil, errors.New("not PKCS#8, PKCS#1 or SEC1")
	}
	alg, err := readAll(p[1].content)
	if err != nil || len(alg) == 0 || alg[0].tag != tagOID {
		return nil, errors.New("bad algorithm")
	}
	switch {
	case bytes.Equal(alg[0].content, oidRSA):
		return parseRSAKey(p[2].content)
	case bytes.Equal(alg[0].content, oidEC):
		if len(alg) < 2 || alg[1].tag != tagOID {
			return nil, errors.New("EC key without a named curve")
		}
		return parseECKey(p[2].content, alg[1].content)
	case bytes.Equal(alg[0].content, oidEd25519):
		return nil, errors.New("Ed25519 keys are not supported by merge-pem (RSA and EC keys are)")
	}
	return nil, errors.New("key type not supported (RSA and EC keys are)")
}

func parseRSAKey(der []byte) (*publicKey, error) {
	k, err := sequence(der)
	if err != nil || len(k) < 3 || k[0].tag != tagInteger || k[1].tag != tagInteger || k[2].tag != tagInteger {
		return nil, errors.New("bad RSA key")
	}
	return &publicKey{alg: oidRSA, rsaN: k[1].content, rsaE: k[2].content}, nil
}

func parseECKey(der []byte, curve []byte) (*publicKey, error) {
	k, err := sequence(der)
	if err != nil || len(k) < 2 || k[0].tag != tagInteger || k[1].tag != tagOctets {
		return nil, errors.New("bad EC key")
	}
	var public []byte
	for _, t := range k[2:] {
		inner, _, err := readTLV(t.content)
		switch {
		case err != nil:
			return nil, errors.New("bad EC key")
		case t.tag == 0xa0 && inner.tag == tagOID:
			curve = inner.content
		case t.tag == 0xa1 && inner.tag == tagBitString && len(inner.content) > 1 && inner.content[0] == 0:
			public = inner.content[1:]
		}
	}
	if curve == nil {
		return nil, errors.New("EC key without a named curve")
	}
	if public == nil {
		return nil, errors.New("EC key without its public key (cannot check it belongs to the certificate)")
	}
	return &publicKey{alg: oidEC, curve: curve, public: public}, nil
}

func trimZeros(b []byte) []byte {
	for len(b) > 1 && b[0] == 0 {
		b = b[1:]
	}
	return b
}

// matches: do the private key's public part and the certificate's agree?
func (k *publicKey) matches(c *publicKey) bool {
	if !bytes.Equal(k.alg, c.alg) {
		return false
	}
	if bytes.Equal(k.alg, oidRSA) {
		return bytes.Equal(trimZeros(k.rsaN), trimZeros(c.rsaN)) && bytes.Equal(trimZeros(k.rsaE), trimZeros(c.rsaE))
	}
	return bytes.Equal(k.curve, c.curve) && bytes.Equal(k.public, c.public)
}

func readText(path, what string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", taskErr("cannot read %s %s: %s", what, path, errDetail(err))
	}
	return string(data), nil
}

func mergePem(t *Task) (TaskOutcome, error) {
	var missing []string
	for _, p := range []string{t.Cert, t.Key} {
		if !exists(p) {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		if t.WhenExists {
			return TaskOutcome{Skipped: true, Detail: strings.Join(missing, ", ") + " missing (when-exists)"}, nil
		}
		return TaskOutcome{}, taskErr("input missing: %s", strings.Join(missing, ", "))
	}
	certText, err := readText(t.Cert, "certificate")
	if err != nil {
		return TaskOutcome{}, err
	}
	keyText, err := readText(t.Key, "key")
	if err != nil {
		return TaskOutcome{}, err
	}
	var certs, keys []pemBlock
	for _, b := range pemBlocks(certText) {
		if b.label == "CERTIFICATE" {
			certs = append(certs, b)
		}
	}
	if len(certs) == 0 {
		return TaskOutcome{}, taskErr("%s: no valid PEM CERTIFICATE block", t.Cert)
	}
	for _, b := range pemBlocks(keyText) {
		if strings.HasSuffix(b.label, "PRIVATE KEY") {
			keys = append(keys, b)
		}
	}
	if len(keys) == 0 {
		return TaskOutcome{}, taskErr("%s: no valid PEM PRIVATE KEY block", t.Key)
	}
	if len(keys) > 1 {
		return TaskOutcome{}, taskErr("%s: %d PRIVATE KEY blocks (expected one)", t.Key, len(keys))
	}
	var leaf *publicKey
	for i, b := range certs {
		c, err := parseCertificate(b.der)
		if err != nil {
			return TaskOutcome{}, taskErr("%s: not a valid X.509 certificate: %v", t.Cert, err)
		}
		if i == 0 {
			leaf = c
		}
	}
	key, err := parsePrivateKey(keys[0].label, keys[0].der)
	if err != nil {
		return TaskOutcome{}, taskErr("%s: not a valid private key: %v", t.Key, err)
	}
	if !key.matches(leaf) {
		return TaskOutcome{}, taskErr("%s does not match the certificate in %s", t.Key, t.Cert)
	}
	var content strings.Builder
	for i, c := range certs {
		if i > 0 {
			content.WriteString("\n")
		}
		content.WriteString(c.text)
	}
	content.WriteString("\n" + keys[0].text + "\n")
	if err := writeFileAtomic(t.Out, []byte(content.String()), 0o600); err != nil {
		return TaskOutcome{}, taskErr("cannot write %s: %s", t.Out, errDetail(err))
	}
	return TaskOutcome{Detail: sprintf("wrote %s (mode 0600, %d certificate(s) + key)", t.Out, len(certs))}, nil
}

// writeFileAtomic writes a temporary file beside path (exclusive create, fsync) and renames it.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	tmp := filepath.Join(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"."+strconv.Itoa(os.Getpid()))
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
	}
	return err
}
