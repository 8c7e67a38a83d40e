package store

import (
	"context"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5"
)

// The account queries, on taskchat's own users table or an adopted one.

func scanAccount(row pgx.Row) (Account, error) {
	var a Account
	err := row.Scan(&a.ID, &a.Email, &a.Name, &a.PasswordHash, &a.CreatedAt)
	a.CreatedAt = a.CreatedAt.UTC()
	if errors.Is(err, pgx.ErrNoRows) {
		err = ErrAccountNotFound
	}
	return a, err
}

// CreateAccount implements Store.
func (p *Postgres) CreateAccount(ctx context.Context, na NewAccount) (a Account, err error) {
	err = p.write(ctx, func(ctx context.Context, q db, s *schema) error {
		// The check and the insert are one statement's worth of race: a
		// unique index on email catches the rest (ErrEmailTaken).
		if _, err := scanAccount(q.QueryRow(ctx, s.sql.accountByEmail, na.Email)); err == nil {
			return ErrEmailTaken
		} else if !errors.Is(err, ErrAccountNotFound) {
			return err
		}
		args := []any{strings.TrimSpace(na.Email), na.PasswordHash}
		if s.users.name {
			args = append(args, na.Name)
		}
		a, err = scanAccount(q.QueryRow(ctx, s.sql.createAccount, args...))
		return err
	})
	return a, err
}

// AccountByEmail implements Store.
func (p *Postgres) AccountByEmail(ctx context.Context, email string) (a Account, err error) {
	err = p.read(ctx, func(ctx context.Context, q db, s *schema) error {
		a, err = scanAccount(q.QueryRow(ctx, s.sql.accountByEmail, strings.TrimSpace(email)))
		return err
	})
	return a, err
}

// AccountByID implements Store.
func (p *Postgres) AccountByID(ctx context.Context, id string) (a Account, err error) {
	err = p.read(ctx, func(ctx context.Context, q db, s *schema) error {
		a, err = scanAccount(q.QueryRow(ctx, s.sql.accountByID, id))
		return err
	})
	return a, err
}

// UpgradePassword implements Store.
func (p *Postgres) UpgradePassword(ctx context.Context, id, oldHash, newHash string) (done bool, err error) {
	err = p.write(ctx, func(ctx context.Context, q db, s *schema) error {
		if max := s.users.hashMax; max > 0 && len(newHash) > max {
			return nil
		}
		tag, err := q.Exec(ctx, s.sql.upgradePassword, id, oldHash, newHash)
		done = err == nil && tag.RowsAffected() == 1
		return err
	})
	return done, err
}

// Attempt implements Store: the count is the chat rate's, shared by every
// instance on the database.
func (p *Postgres) Attempt(ctx context.Context, key string, limit int) error {
	return p.write(ctx, func(ctx context.Context, q db, s *schema) error {
		var n int
		var wait float64
		if err := q.QueryRow(ctx, s.sql.countTurn, key).Scan(&n, &wait); err != nil {
			return err
		}
		if n > limit {
			return &RateLimitError{Limit: limit, RetryAfter: secondsOf(wait)}
		}
		return nil
	})
}
