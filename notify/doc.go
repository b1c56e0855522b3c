// Package notify holds what fieldtalk's conversations.Notifiers share: FanOut,
// which hands each notification to several Notifiers at once (the in-app
// stream and phone push, typically), and Payload, the JSON form of a
// notification that in-app clients and push gateways receive.
//
// The Notifiers themselves live in subpackages named after what they talk
// to: inapp (a Server-Sent Events stream to the app, fanned out across server
// instances over PostgreSQL LISTEN/NOTIFY by inapp/pgbus), push (Firebase
// Cloud Messaging, or a signed web hook to the host's own push gateway).
// notifytest is the conformance suite every Notifier runs.
//
// The conversations.Service calls its Notifier once per recipient after the
// change is committed, with that recipient's badge; a host wires the pieces
// together:
//
//	hub, _ := inapp.New(inapp.Config{Log: db, Authenticate: auth})
//	fcm, _ := push.NewFCM(push.FCMConfig{Credentials: creds, Devices: db})
//	fan, _ := notify.New(hub, fcm)
//	svc, _ := conversations.NewService(conversations.Config{Store: db, Policy: policy.Default(), Notifier: fan})
package notify
