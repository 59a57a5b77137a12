// Package signin mints the JSON Web Tokens WBO's sign-in accepts, and
// mirrors how WBO reads them, so that what `wbo-deploy token` promises is
// what the deployed server grants.
//
// WBO (server/auth/board_jwt.mjs, jwt.mjs, board_capabilities.mjs at tag
// v2.17.0) reads the token from the `token` query parameter, verifies it with
// jsonwebtoken.verify(token, AUTH_SECRET_KEY): an HMAC signature (HS256 for a
// string secret) and, when present, the exp and nbf claims. Its `roles`
// claim is a list of "role" or "role:board" strings, role one of moderator,
// editor, reader:
//   - a role naming the requested board applies to that board;
//   - otherwise, when no role names any board, the token is "moderator" if it
//     holds a moderator role and "editor" if not: a board-less "reader" is
//     an editor;
//   - otherwise (the token names other boards only) it is forbidden there,
//     and on pages that are no board (/, /random) unless it holds a
//     board-less moderator role.
//
// A reader may still edit a board that is not read-only: WBO's readers are
// only read-only on read-only boards (canEdit = open && (!readonly ||
// editor or moderator)).
package signin

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Roles WBO knows.
const (
	Reader    = "reader"
	Editor    = "editor"
	Moderator = "moderator"
	Forbidden = "forbidden"
)

// Claims are the JWT claims wbo-deploy sets.
type Claims struct {
	Roles []string `json:"roles"`
	IAT   int64    `json:"iat"`
	EXP   int64    `json:"exp,omitempty"`
	NBF   int64    `json:"nbf,omitempty"`
}

// Token describes a token to mint.
type Token struct {
	Role  string        // reader, editor or moderator
	Board string        // "" = every board
	TTL   time.Duration // > 0
}

// MaxTTL bounds a token's lifetime: a sign-in URL is a bearer credential.
const MaxTTL = 366 * 24 * time.Hour

// Check validates t, saying what WBO would make of a token that does not
// mean what it says.
func (t Token) Check() error {
	switch t.Role {
	case Editor, Moderator:
	case Reader:
		if t.Board == "" {
			return errors.New("--role reader needs --board: WBO treats a reader role that names no board as an editor (server/auth/board_jwt.mjs)")
		}
	default:
		return fmt.Errorf("--role %q: use reader, editor or moderator", t.Role)
	}
	if t.TTL <= 0 || t.TTL > MaxTTL {
		return fmt.Errorf("--ttl %s: must be more than 0 and at most %s", t.TTL, MaxTTL)
	}
	if strings.ContainsAny(t.Board, "/?#") {
		return fmt.Errorf("--board %q: a board name has no /, ? or #", t.Board)
	}
	return nil
}

var b64 = base64.RawURLEncoding

// Mint signs a token for t with key (HS256), valid from now for t.TTL.
func Mint(key []byte, t Token, now time.Time) (string, error) {
	if err := t.Check(); err != nil {
		return "", err
	}
	if len(key) == 0 {
		return "", errors.New("the AUTH_SECRET_KEY is empty")
	}
	role := t.Role
	if t.Board != "" {
		role += ":" + t.Board
	}
	c := Claims{Roles: []string{role}, IAT: now.Unix(), EXP: now.Add(t.TTL).Unix()}
	return sign(key, c)
}

func sign(key []byte, c Claims) (string, error) {
	head := b64.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	body, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	msg := head + "." + b64.EncodeToString(body)
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(msg))
	return msg + "." + b64.EncodeToString(mac.Sum(nil)), nil
}

// Verify checks the signature and time claims as jsonwebtoken.verify does
// for an HS256 token and returns its claims.
func Verify(key []byte, token string, now time.Time) (*Claims, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, errors.New("jwt malformed")
	}
	head, err := b64.DecodeString(parts[0])
	if err != nil {
		return nil, errors.New("jwt malformed")
	}
	var h struct{ Alg string }
	if json.Unmarshal(head, &h) != nil || h.Alg != "HS256" {
		return nil, errors.New("invalid algorithm")
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(parts[0] + "." + parts[1]))
	sig, err := b64.DecodeString(parts[2])
	if err != nil || !hmac.Equal(sig, mac.Sum(nil)) {
		return nil, errors.New("invalid signature")
	}
	body, err := b64.DecodeString(parts[1])
	if err != nil {
		return nil, errors.New("jwt malformed")
	}
	var c Claims
	if err := json.Unmarshal(body, &c); err != nil {
		return nil, errors.New("jwt malformed")
	}
	if c.EXP != 0 && now.Unix() >= c.EXP {
		return nil, errors.New("jwt expired")
	}
	if c.NBF != 0 && now.Unix() < c.NBF {
		return nil, errors.New("jwt not active")
	}
	return &c, nil
}

// RoleInBoard is WBO's roleInBoard: the role a verified token's roles grant
// on board ("" for a page that is no board, such as /).
func RoleInBoard(roles []string, board string) string {
	matching, hasBoard, hasModerator := "", false, false
	for _, line := range roles {
		name, b, _ := strings.Cut(line, ":")
		if name == "" {
			name = Forbidden
		}
		if b != "" {
			hasBoard = true
		}
		if name == Moderator {
			hasModerator = true
		}
		// WBO compares the role's board with the requested one, null for
		// pages that are no board: a board-less role never matches.
		if board != "" && b == board {
			switch name {
			case Moderator, Editor, Reader:
				matching = name
			default:
				matching = Forbidden
			}
		}
	}
	if matching != "" {
		return matching
	}
	if (board == "" && hasModerator) || !hasBoard {
		if hasModerator {
			return Moderator
		}
		return Editor
	}
	return Forbidden
}
