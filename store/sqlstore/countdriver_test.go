package sqlstore_test

import (
	"context"
	"database/sql/driver"
	"errors"
	"sync/atomic"
)

// counter counts what a pool sends to its database: statements executed
// (each one round trip), statements prepared, and transactions begun.
type counter struct {
	statements, prepares, begins atomic.Int64
}

// countingConnector wraps a driver's connector so that every connection it
// makes counts into c. Like any wrapping driver (a tracing one, say) it has a
// driver of its own, from a package the Store does not know.
type countingConnector struct {
	driver.Connector
	c *counter
}

func (cc countingConnector) Driver() driver.Driver { return countingDriver{cc.Connector.Driver()} }

// countingDriver is the driver of a countingConnector. Only database/sql's
// Driver accessor reaches it: connections come from the connector.
type countingDriver struct{ driver.Driver }

func (cc countingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := cc.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: conn, c: cc.c}, nil
}

type countingConn struct {
	driver.Conn
	c *counter
}

func (cn *countingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	q, ok := cn.Conn.(driver.QueryerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	cn.c.statements.Add(1)
	return q.QueryContext(ctx, query, args)
}

func (cn *countingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	e, ok := cn.Conn.(driver.ExecerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	cn.c.statements.Add(1)
	return e.ExecContext(ctx, query, args)
}

func (cn *countingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	cn.c.prepares.Add(1)
	var st driver.Stmt
	var err error
	if p, ok := cn.Conn.(driver.ConnPrepareContext); ok {
		st, err = p.PrepareContext(ctx, query)
	} else {
		st, err = cn.Conn.Prepare(query)
	}
	if err != nil {
		return nil, err
	}
	return &countingStmt{Stmt: st, c: cn.c}, nil
}

func (cn *countingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	cn.c.begins.Add(1)
	b, ok := cn.Conn.(driver.ConnBeginTx)
	if !ok {
		return nil, errors.New("countingConn: the driver does not implement driver.ConnBeginTx")
	}
	return b.BeginTx(ctx, opts)
}

func (cn *countingConn) ResetSession(ctx context.Context) error {
	if r, ok := cn.Conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (cn *countingConn) IsValid() bool {
	if v, ok := cn.Conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

func (cn *countingConn) CheckNamedValue(nv *driver.NamedValue) error {
	if c, ok := cn.Conn.(driver.NamedValueChecker); ok {
		return c.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

type countingStmt struct {
	driver.Stmt
	c *counter
}

func (s *countingStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	e, ok := s.Stmt.(driver.StmtExecContext)
	if !ok {
		return nil, errors.New("countingStmt: the driver does not implement driver.StmtExecContext")
	}
	s.c.statements.Add(1)
	return e.ExecContext(ctx, args)
}

func (s *countingStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	q, ok := s.Stmt.(driver.StmtQueryContext)
	if !ok {
		return nil, errors.New("countingStmt: the driver does not implement driver.StmtQueryContext")
	}
	s.c.statements.Add(1)
	return q.QueryContext(ctx, args)
}
