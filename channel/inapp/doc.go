// Package inapp is the conversations.Channel for internal staff messages
// (channel name "inapp"). An internal message travels nowhere: the Service
// writing it to the store is its delivery, and the realtime notifier shows it
// on staff devices. Send therefore only checks the message and returns a
// Receipt that says delivered, with the message's own id as ProviderID, so
// internal messages go through the same delivery Worker as SMS.
package inapp
