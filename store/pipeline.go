package store

import (
	"context"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/fieldtalk/fieldtalk/internal/pgexec"
)

// pipeline sends statements (with $n placeholders) to PostgreSQL in one
// round trip and reads their results: pgexec.Executor.Pipeline, on the DB's
// connection. Outside a transaction they run as one implicit transaction.
func (s *DB) pipeline(ctx context.Context, label string, stmts ...pgexec.Statement) error {
	start := time.Now()
	for _, st := range stmts {
		s.traced(st.SQL, st.Args)
	}
	err := s.withPgx(ctx, func(c *pgx.Conn) error {
		return s.x.Pipeline(ctx, c, s.tx != nil, stmts...)
	})
	s.logQuery(ctx, label+": a pipeline of "+strconv.Itoa(len(stmts))+" statements", start, err)
	return err
}
