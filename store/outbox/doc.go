// Package outbox is fieldtalk's durable outbound queue: a
// conversations.Outbox on River (github.com/riverqueue/river), in the same
// database as the store, so that a message and its delivery job commit in
// one transaction.
//
// The Outbox belongs to the store it was made on: Store returns that
// store.DB carrying the Outbox (a conversations.QueueStore), which is what
// the Service parts that queue work take, so a message and its job can only
// be written by one database. The Service stores an outbound message as
// queued and calls Enqueue in the same transaction; once committed, a River
// worker calls Deliver (conversations.Worker) for it, retrying transient failures with jittered
// exponential backoff (and the provider's Retry-After, when longer) within a
// budget of attempts. River locks a job while it runs, so any number of host
// instances can work the queue without delivering a message twice; a worker
// that dies mid-job has its job rescued and retried, and Deliver
// reconciles with the provider before resending.
//
// A delivery that the provider accepted stays in the queue, snoozed, until
// the message has a final status (conversations.Later): that is how a lost
// status callback is made up for. Messages accepted before those checks
// existed are found by the status sweep, a River periodic job
// (WithStatusSweep, SweepStatusChecks).
//
// SetPace paces a business number (messages a second), in the database,
// so every instance and restart keeps to it; the host calls it where it
// provisions the number (its CRM sync). Pass the Outbox as
// conversations.Config.Pacer.
// The Outbox also makes new inbound messages' fan-outs crash-safe. With a
// store.DB (a conversations.FanOutStore), Receive files each message with a
// mark that its fan-out is owed, in one statement, the webhook answers, and
// the Service's fan-out loop tells every viewer whose badge changed and
// clears the mark; the fan-out sweep (WithFanOutSweep, a periodic job on a
// River queue of its own, NotifyQueue, run by the leading instance) has the
// Service fan out the marks a crash or a failure left. With a Store that
// keeps no marks, the fan-out is a job per message
// (conversations.DeliverNotify) on that queue, committed with the message.
// Either way a repeat tells nobody twice (the notification log keeps one
// entry per message and recipient).
//
// On PostgreSQL River is driven through database/sql (riverdatabasesql) with a
// pgx listener, so a job starts milliseconds after its transaction commits;
// on SQLite (riversqlite) it polls.
//
//	ob, err := outbox.New(ctx, db)
//	err = ob.Migrate(ctx) // River's tables, beside db.Migrate's
//	svc, err := conversations.NewService(conversations.Config{Store: ob.Store(), ...})
//	err = ob.Start(ctx, svc)
//	defer ob.Stop(ctx)
package outbox
