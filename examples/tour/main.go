// Command tour runs a day in the field on a temporary SQLite database and
// prints a readable transcript of what each person sees: a customer texts,
// the assigned technician's inbox and badge update, replies are suggested,
// the reply goes out through Twilio and comes back sent then delivered, an
// offline draft sent three times goes out once, a dispatcher messages the
// technician, an AI receptionist hands over an emergency, a workflow email
// goes out through SendGrid, and a technician on no job sees none of it.
//
//	go run ./examples/tour
//
// It needs no account and no network: Twilio and SendGrid are the real
// adapters talking to in-process fakes of their APIs (twiliotest,
// sendgridtest), and the durable queue (store/outbox) delivers.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"go.uber.org/fx"
)

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "tour:", err)
		os.Exit(1)
	}
}

// run tells the day to w.
func run(ctx context.Context, w io.Writer) (err error) {
	tmp, err := os.MkdirTemp("", "fieldtalk-tour-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	var wd world
	app := fx.New(wiring(dir(tmp), &transcript{w: w}, names(), &wd))
	if err := app.Err(); err != nil {
		return err
	}
	start, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := app.Start(start); err != nil {
		return err
	}
	defer func() {
		stop, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if serr := app.Stop(stop); err == nil {
			err = serr
		}
	}()
	return (&day{world: wd, ctx: ctx}).run()
}
