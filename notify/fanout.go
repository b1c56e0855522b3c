package notify

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/fieldtalk/fieldtalk/conversations"
)

// FanOut is a conversations.Notifier that hands each notification to several
// Notifiers at once, each with the caller's context, and waits for all of
// them. It is safe for concurrent use if they are.
type FanOut struct {
	notifiers []conversations.Notifier
}

var _ conversations.BatchNotifier = (*FanOut)(nil)

// New returns a FanOut over notifiers. A nil notifier is ErrInvalid.
func New(notifiers ...conversations.Notifier) (*FanOut, error) {
	for i, n := range notifiers {
		if n == nil {
			return nil, fmt.Errorf("notify: %w", conversations.Invalid(fmt.Sprintf("notifiers[%d]", i), "nil"))
		}
	}
	return &FanOut{notifiers: append([]conversations.Notifier(nil), notifiers...)}, nil
}

// Notify calls every Notifier concurrently and returns when all have
// returned. Their errors are joined (errors.Join), each prefixed with the
// Notifier's type; one failing Notifier never keeps the others from
// delivering. A Notifier that panics is reported as an error rather than
// taking the process down, since it runs on a goroutine of FanOut's.
func (f *FanOut) Notify(ctx context.Context, n conversations.Notification) error {
	return f.NotifyBatch(ctx, []conversations.Notification{n})
}

// NotifyBatch hands ns to every Notifier concurrently, in one call to each
// that is a conversations.BatchNotifier (the in-app Hub logs them in one
// write), and returns when all have returned, as Notify does.
func (f *FanOut) NotifyBatch(ctx context.Context, ns []conversations.Notification) error {
	errs := make([]error, len(f.notifiers))
	var wg sync.WaitGroup
	for i, nt := range f.notifiers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = notifyOne(ctx, nt, ns...)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func notifyOne(ctx context.Context, nt conversations.Notifier, ns ...conversations.Notification) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("notify: %T panicked: %v", nt, p)
		}
	}()
	if err := conversations.NotifyBatch(ctx, nt, ns); err != nil {
		return fmt.Errorf("notify: %T: %w", nt, err)
	}
	return nil
}
