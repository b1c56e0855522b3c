package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// pipelined is one statement of a pipeline: its text with $n placeholders,
// its arguments, and where its first row goes (nil to discard the rows).
type pipelined struct {
	text string
	args []any
	dest []any
}

// pipeline sends statements to PostgreSQL in one round trip and reads their
// results. Outside a transaction they run as one implicit transaction (all
// or nothing), each statement with its own snapshot, as separate statements
// of an explicit transaction would, at the cost of one round trip instead of
// one per statement plus BEGIN and COMMIT. Each statement is prepared once
// per connection and then runs with its cached plan, like the cached
// statements of sqlexec.go (pgx's own Batch would run them unprepared in the
// simple protocol these connections default to for bun).
//
// The first error of any statement is returned; the statements after it did
// not run and, outside a transaction, those before it were rolled back.
func (s *DB) pipeline(ctx context.Context, label string, stmts ...pipelined) error {
	start := time.Now()
	err := s.withPgx(ctx, func(c *pgx.Conn) error {
		types := c.TypeMap()
		var b pgconn.Batch
		for _, st := range stmts {
			s.traced(st.text, st.args)
			sd, err := c.Prepare(ctx, st.text, st.text) // a no-op once the connection has it
			if err != nil {
				return err
			}
			if len(sd.ParamOIDs) != len(st.args) {
				return fmt.Errorf("store: pipeline: %d arguments for %d parameters", len(st.args), len(sd.ParamOIDs))
			}
			params := make([][]byte, len(st.args))
			formats := make([]int16, len(st.args))
			for i, a := range st.args {
				formats[i] = types.FormatCodeForOID(sd.ParamOIDs[i])
				// A non-nil buffer, so that an empty value is not taken for NULL
				// (Encode returns nil only for a nil value then).
				if params[i], err = types.Encode(sd.ParamOIDs[i], formats[i], a, make([]byte, 0, 32)); err != nil {
					return fmt.Errorf("store: pipeline: argument %d: %w", i+1, err)
				}
			}
			b.ExecPrepared(sd.Name, params, formats, nil)
		}
		results, err := c.PgConn().ExecBatch(ctx, &b).ReadAll()
		for _, r := range results {
			if r.Err != nil {
				err = r.Err
				break
			}
		}
		if err != nil {
			forgetStale(ctx, c, err, stmts)
			return err
		}
		for i, r := range results {
			if stmts[i].dest == nil {
				continue
			}
			if len(r.Rows) == 0 {
				return sql.ErrNoRows
			}
			if len(r.FieldDescriptions) != len(stmts[i].dest) {
				return fmt.Errorf("store: pipeline: %d columns for %d destinations", len(r.FieldDescriptions), len(stmts[i].dest))
			}
			for j, f := range r.FieldDescriptions {
				if err := types.Scan(f.DataTypeOID, f.Format, r.Rows[0][j], stmts[i].dest[j]); err != nil {
					return fmt.Errorf("store: pipeline: column %s: %w", f.Name, err)
				}
			}
		}
		return nil
	})
	s.logQuery(ctx, label+": a pipeline of "+strconv.Itoa(len(stmts))+" statements", start, err)
	return err
}

// forgetStale drops the connection's prepared statements of a pipeline that
// failed because one of them no longer fits the schema (a migration changed
// a table under it: "cached plan must not change result type", or the
// statement is gone), so that the next call prepares them afresh instead of
// failing on this connection for as long as it lives. pgx does this itself
// for its statement cache, not for statements prepared by name.
func forgetStale(ctx context.Context, c *pgx.Conn, err error, stmts []pipelined) {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || (pgErr.Code != "0A000" && pgErr.Code != "26000") {
		return
	}
	for _, st := range stmts {
		_ = c.Deallocate(ctx, st.text)
	}
}
