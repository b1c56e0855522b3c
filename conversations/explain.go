package conversations

import "errors"

// Explain returns what err says that whoever made the call may be shown: a
// *FieldError's field and reason, a refused access, a conflict's reason, an
// opt-out, a missing number. For any other error it returns "": its text may
// name internals (SQL, constraint names, package prefixes, other ids) and
// belongs in the host's log, not in an answer.
func Explain(err error) string {
	var (
		fe   *FieldError
		acc  *accessError
		conf *conflictError
		opt  *OptOutError
		num  *missingNumberError
	)
	switch {
	case errors.As(err, &fe):
		return "invalid " + fe.Field + ": " + fe.Reason
	case errors.As(err, &acc):
		return "you may not access this " + acc.what
	case errors.As(err, &conf):
		return conf.what
	case errors.As(err, &opt):
		return "the recipient has opted out of SMS from this business; nothing can be sent to them until they opt back in"
	case errors.As(err, &num):
		return "the business has no " + num.channel + " number to send from"
	}
	return ""
}
