// Package policy is fieldtalk's visibility engine: it turns a
// conversations.Viewer into a conversations.Scope from rules that are plain
// data, answers whether a viewer may see one thread, and says who should be
// told of a new message.
//
// The product's rule (Default) is:
//   - dispatchers and admins see every customer thread of their business;
//   - a technician sees a customer thread only when they take part in it or
//     are assigned to a job linked to it;
//   - internal threads are seen by their participants only;
//   - nothing of one business is visible to another's staff.
//
// Rules are pure: the job assignments and participants they read are carried
// by the thread (conversations.Thread.Assignees, Participants), and the store
// answers the same Scope in SQL from tables it keeps indexed.
package policy
