package pgexec

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Statement is one statement of a pipeline: its text with $n parameters,
// its arguments, and where its first row goes (nil to discard the rows).
type Statement struct {
	SQL  string
	Args []any
	Dest []any
}

// Pipeline sends stmts to the server in one round trip and reads their
// results. Outside a transaction they run as one implicit transaction (all
// or nothing), each statement with its own snapshot, as separate statements
// of an explicit transaction would, at the cost of one round trip instead
// of one per statement plus BEGIN and COMMIT. (pgx's own Batch runs in the
// connection's default mode, the simple protocol on connections shared with
// bun; a pipeline runs in the Executor's.)
//
// A statement the connection has not prepared (or, under transaction
// pooling, described) yet is prepared first, all of them in one more round
// trip: a connection's first pipeline takes two. The statements are
// prepared by a name derived from their text and kept per connection
// (pgconn.PgConn.CustomData), apart from pgx's statement cache; under
// transaction pooling they are described through the unnamed statement and
// run unnamed.
//
// The first error of any statement is returned; the statements after it
// did not run and, outside a transaction, those before it were rolled
// back. A Retryable failure outside a transaction forgets the pipeline's
// statements on the connection and runs it once more, preparing them
// afresh.
func (x *Executor) Pipeline(ctx context.Context, c *pgx.Conn, inTx bool, stmts ...Statement) error {
	err := x.pipeline(ctx, c, stmts)
	if err != nil && Retryable(err) {
		x.forget(c, stmts)
		if !inTx {
			err = x.pipeline(ctx, c, stmts)
		}
	}
	return err
}

// prepared is the key of the per-connection map of a pipeline's statements
// in pgconn.PgConn.CustomData: text → description.
const prepared = "fieldtalk/pgexec.prepared"

func (x *Executor) known(c *pgx.Conn) map[string]*pgconn.StatementDescription {
	data := c.PgConn().CustomData()
	m, ok := data[prepared].(map[string]*pgconn.StatementDescription)
	if !ok {
		m = map[string]*pgconn.StatementDescription{}
		data[prepared] = m
	}
	return m
}

// forget drops the connection's record of stmts, so that the next pipeline
// prepares them afresh; a statement the server still has is closed first
// (a name can be prepared only once per session).
func (x *Executor) forget(c *pgx.Conn, stmts []Statement) {
	known := x.known(c)
	for _, st := range stmts {
		delete(known, st.SQL)
	}
	if !x.pooled {
		// The server may still hold some of them under their names (it lost
		// only the one that failed): DEALLOCATE of every name then runs
		// ahead of the next PREPARE of them, in prepare's round trip.
		pending, _ := c.PgConn().CustomData()[prepared+".stale"].([]string)
		for _, st := range stmts {
			pending = append(pending, statementName(st.SQL))
		}
		c.PgConn().CustomData()[prepared+".stale"] = pending
	}
}

// statementName is the server-side name of a pipeline's statement.
func statementName(sql string) string {
	d := sha256.Sum256([]byte(sql))
	return "ft_" + hex.EncodeToString(d[:20])
}

// prepare prepares (or describes) the statements the connection does not
// know yet, in one round trip.
func (x *Executor) prepare(ctx context.Context, c *pgx.Conn, stmts []Statement) (map[string]*pgconn.StatementDescription, error) {
	known := x.known(c)
	var missing []string
	for _, st := range stmts {
		if _, ok := known[st.SQL]; !ok && !contains(missing, st.SQL) {
			missing = append(missing, st.SQL)
		}
	}
	if len(missing) == 0 {
		return known, nil
	}
	x.tracer.add(1)
	p := c.PgConn().StartPipeline(ctx)
	stale, _ := c.PgConn().CustomData()[prepared+".stale"].([]string)
	for _, name := range stale {
		// Closing a statement that does not exist is no error.
		p.SendDeallocate(name)
	}
	for _, q := range missing {
		name := ""
		if !x.pooled {
			name = statementName(q)
		}
		p.SendPrepare(name, q, nil)
	}
	if err := p.Sync(); err != nil {
		_ = p.Close()
		return nil, err
	}
	var descs []*pgconn.StatementDescription
	for done := false; !done; {
		res, err := p.GetResults()
		if err != nil {
			_ = p.Close()
			return nil, err
		}
		switch r := res.(type) {
		case *pgconn.StatementDescription:
			descs = append(descs, r)
		case *pgconn.PipelineSync, nil:
			done = true
		}
	}
	if err := p.Close(); err != nil {
		return nil, err
	}
	delete(c.PgConn().CustomData(), prepared+".stale")
	if len(descs) != len(missing) {
		return nil, fmt.Errorf("pgexec: pipeline: %d descriptions for %d statements", len(descs), len(missing))
	}
	for i, q := range missing {
		// pgconn's pipeline leaves the name and text out of the description.
		descs[i].SQL = q
		if !x.pooled {
			descs[i].Name = statementName(q)
		}
		known[q] = descs[i]
	}
	return known, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func (x *Executor) pipeline(ctx context.Context, c *pgx.Conn, stmts []Statement) error {
	known, err := x.prepare(ctx, c, stmts)
	if err != nil {
		return err
	}
	types := c.TypeMap()
	var b pgconn.Batch
	for _, st := range stmts {
		sd := known[st.SQL]
		if len(sd.ParamOIDs) != len(st.Args) {
			return fmt.Errorf("pgexec: pipeline: %d arguments for %d parameters", len(st.Args), len(sd.ParamOIDs))
		}
		params := make([][]byte, len(st.Args))
		formats := make([]int16, len(st.Args))
		for i, a := range st.Args {
			formats[i] = types.FormatCodeForOID(sd.ParamOIDs[i])
			// A non-nil buffer, so that an empty value is not taken for NULL
			// (Encode returns nil only for a nil value then).
			if params[i], err = types.Encode(sd.ParamOIDs[i], formats[i], a, make([]byte, 0, 32)); err != nil {
				return fmt.Errorf("pgexec: pipeline: argument %d: %w", i+1, err)
			}
		}
		results := make([]int16, len(sd.Fields))
		for i, f := range sd.Fields {
			results[i] = types.FormatCodeForOID(f.DataTypeOID)
		}
		if x.pooled {
			b.ExecParams(st.SQL, params, sd.ParamOIDs, formats, results)
		} else {
			b.ExecPrepared(sd.Name, params, formats, results)
		}
	}
	x.tracer.add(1)
	results, err := c.PgConn().ExecBatch(ctx, &b).ReadAll()
	for _, r := range results {
		if r.Err != nil {
			err = r.Err
			break
		}
	}
	if err != nil {
		return err
	}
	for i, r := range results {
		if stmts[i].Dest == nil {
			continue
		}
		if len(r.Rows) == 0 {
			return sql.ErrNoRows
		}
		if len(r.FieldDescriptions) != len(stmts[i].Dest) {
			return fmt.Errorf("pgexec: pipeline: %d columns for %d destinations", len(r.FieldDescriptions), len(stmts[i].Dest))
		}
		for j, f := range r.FieldDescriptions {
			if err := types.Scan(f.DataTypeOID, f.Format, r.Rows[0][j], stmts[i].Dest[j]); err != nil {
				return fmt.Errorf("pgexec: pipeline: column %s: %w", f.Name, err)
			}
		}
	}
	return nil
}
