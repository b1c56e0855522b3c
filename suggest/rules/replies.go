package rules

import (
	"github.com/fieldtalk/fieldtalk/conversations"
)

// replies returns the candidate replies for an intent, best first. Each
// states only what f holds: a time only when the job has one, a name only
// when the request gives it.
func replies(in conversations.Intent, f facts, hz hazard) []string {
	switch in {
	case conversations.IntentEmergency:
		return emergencyReplies(f, hz)
	case conversations.IntentComplaint:
		return complaintReplies(f)
	case conversations.IntentCancel:
		return cancelReplies(f)
	case conversations.IntentReschedule:
		return rescheduleReplies(f)
	case conversations.IntentETA:
		return etaReplies(f)
	case conversations.IntentAccess:
		return accessReplies(f)
	case conversations.IntentPricing:
		return pricingReplies(f)
	case conversations.IntentPayment:
		return paymentReplies(f)
	case conversations.IntentConfirm:
		return confirmReplies(f)
	case conversations.IntentThanks:
		return thanksReplies(f)
	}
	return otherReplies(f)
}

// comma is ", Maria" or "".
func comma(name string) string {
	if name == "" {
		return ""
	}
	return ", " + name
}

// hi is "Hi Maria, " or "Hi, ".
func hi(name string) string {
	if name == "" {
		return "Hi, "
	}
	return "Hi " + name + ", "
}

func safetyLine(hz hazard) string {
	switch hz {
	case hazardGas:
		return "If you smell gas, leave the house now and call 911 or your gas company from outside."
	case hazardCO:
		return "Get everyone outside into fresh air now and call 911."
	case hazardElectrical:
		return "Stay clear of it and, only if it's safe, switch off the breaker. If there's smoke or fire, call 911."
	case hazardWater:
		return "If you can, shut off the main water valve and stay away from wet outlets or cords."
	case hazardSewage:
		return "Please stop using sinks, toilets and showers for now."
	case hazardCold:
		return "Keep everyone together in the warmest room, and call 911 if anyone feels unwell."
	}
	return "If anyone is in danger, call 911 first."
}

func emergencyReplies(f facts, hz hazard) []string {
	safety := safetyLine(hz)
	first := "We're on it — help is being arranged right now. " + safety
	if f.customer != "" {
		first = f.customer + ", we're on it — help is being arranged right now. " + safety
	}
	where := ""
	if f.address != "" {
		where = " at " + f.address
	}
	return []string{
		first,
		"We're arranging for someone to get to you" + where + " as fast as possible. " + safety + " I'll call you right back.",
		"Thank you for telling us. We're treating this as an emergency and arranging help now. Can I call you right away?",
	}
}

func complaintReplies(f facts) []string {
	who := "our manager"
	if f.business != "" {
		who = "the team at " + f.business
	}
	return []string{
		"I'm really sorry about this" + comma(f.customer) + ". I want to make it right — can I give you a call now?",
		"Thank you for letting us know, and I apologize. I'm looking into what happened and will get back to you shortly.",
		"I'm sorry for the trouble. I'm flagging this with " + who + " right away and will follow up with you.",
	}
}

func cancelReplies(f facts) []string {
	when := ""
	if f.window != "" {
		when = " for " + f.window
	}
	last := "Got it, thanks for letting us know. We're here whenever you need us."
	if f.business != "" {
		last = "Got it, thanks for letting us know. " + f.business + " is here whenever you need us."
	}
	return []string{
		"No problem" + comma(f.customer) + ". I'll cancel your appointment" + when + " and send you a confirmation.",
		"Understood. Before I cancel, would a different day work better for you instead?",
		last,
	}
}

func rescheduleReplies(f facts) []string {
	second := "Sure, we can reschedule. Would later this week or next week be better for you?"
	if f.window != "" {
		second = "Sure, we can move your appointment from " + f.window + ". Would later this week or next week be better?"
	}
	return []string{
		"No problem" + comma(f.customer) + "! What days and times work best for you? I'll find a new slot.",
		second,
		"Happy to help. Send me a couple of times that work and I'll confirm one with you.",
	}
}

func etaReplies(f facts) []string {
	t := f.tech
	switch {
	case f.eta != "":
		second := t.subj() + "'s current ETA is " + f.eta + ". We'll text you if anything changes."
		if t.self {
			second = "I'm on schedule to arrive " + f.eta + " and will text you if anything changes."
		}
		return []string{
			hi(f.customer) + t.willMid() + " be there " + f.eta + ". I'll let you know if anything changes.",
			second,
			"Thanks for checking in" + comma(f.customer) + "! You're on the schedule, and the arrival estimate is " + f.eta + ".",
		}
	case f.staleETA:
		first := "Sorry for the wait" + comma(f.customer) + "! Let me check where " + t.obj() + " is and get right back to you."
		if t.self {
			first = "Sorry for the wait" + comma(f.customer) + "! I'm running behind — I'll text you an updated time shortly."
		}
		return []string{
			first,
			"Apologies for the delay. I'm checking on an updated arrival time now and will text you as soon as I have it.",
			"Thanks for your patience" + comma(f.customer) + ". I'll get you an updated arrival time right away.",
		}
	case f.window != "":
		third := t.is() + " scheduled to be there " + f.window + "."
		return []string{
			hi(f.customer) + "your appointment is " + f.window + ". " + onTheWay(t),
			"You're scheduled for " + f.window + ". I'll check on a more exact time and let you know.",
			"Thanks for checking! " + upperFirst(third) + " We'll send you a heads-up before arrival.",
		}
	case f.hasJob:
		first := hi(f.customer) + "let me check with " + t.obj() + " on an arrival time and get right back to you."
		if t.self || t.name == "" {
			first = hi(f.customer) + "let me check the schedule for an arrival time and get right back to you."
		}
		third := "Thanks" + comma(f.customer) + "! I'm checking on your appointment now and will update you shortly."
		if f.address != "" {
			third = "Thanks" + comma(f.customer) + "! I'm checking on your appointment at " + f.address + " and will update you shortly."
		}
		return []string{
			first,
			"Good question — I'm confirming the arrival time now and will text you as soon as I have it.",
			third,
		}
	}
	return []string{
		hi(f.customer) + "let me check the schedule for an arrival time and get right back to you.",
		"Good question — I'm checking on that now and will text you as soon as I have a time.",
		"Thanks for reaching out! Could you confirm the address for the appointment? I'll check the schedule and get back to you.",
	}
}

func accessReplies(f facts) []string {
	t := f.tech
	first := "Thanks" + comma(f.customer) + "! I've added that to the job notes so " + t.obj() + " has it."
	third := "Perfect, I'll pass that along to " + t.obj() + ". Thanks for the heads-up!"
	switch {
	case t.self:
		first = "Thanks" + comma(f.customer) + "! I've noted that down for when I arrive."
		third = "Perfect, thanks for the heads-up!"
	case !f.hasJob:
		first = "Thanks" + comma(f.customer) + "! I've noted that for the technician."
		third = "Perfect, thanks for the heads-up! I'll pass it along."
	}
	second := "Got it, thank you. Is there anything else we should know to get in, like pets or parking?"
	if f.address != "" {
		second = "Got it, thank you. Is there anything else we should know to get in at " + f.address + ", like pets or parking?"
	}
	return []string{first, second, third}
}

func pricingReplies(f facts) []string {
	return []string{
		"Good question" + comma(f.customer) + "! " + f.tech.will() + " take a look and give you a firm quote before starting any work.",
		"Pricing depends on what we find on site. I'll check and get back to you with an estimate.",
		"Happy to help — could you send a photo or a few details so we can give you a more accurate estimate?",
	}
}

func paymentReplies(f facts) []string {
	return []string{
		"Thanks" + comma(f.customer) + "! Let me check your account and get right back to you.",
		"Happy to help with that. Which payment method works best for you?",
		"Got it — I'll look into the payment details and follow up shortly.",
	}
}

func confirmReplies(f facts) []string {
	first := "Great, thanks for confirming" + comma(f.customer) + "!"
	if f.window != "" {
		first = "Great, you're all set for " + f.window + ". See you then!"
	}
	return []string{
		first,
		"Perfect, thank you" + comma(f.customer) + "! " + onTheWay(f.tech),
		"Thanks! Let us know if anything changes before then.",
	}
}

func thanksReplies(f facts) []string {
	first := "You're very welcome" + comma(f.customer) + "! Thanks for choosing us."
	if f.business != "" {
		first = "You're very welcome" + comma(f.customer) + "! Thanks for choosing " + f.business + "."
	}
	return []string{
		first,
		"Glad we could help! Reach out anytime if you need anything else.",
		"Thank you" + comma(f.customer) + "! If you have a minute, we'd really appreciate a review.",
	}
}

func otherReplies(f facts) []string {
	first := "Thanks for your message" + comma(f.customer) + "! Let me look into this and get right back to you."
	switch {
	case f.photos == 1:
		first = "Thanks for the photo" + comma(f.customer) + "! I'll take a look and get back to you shortly."
	case f.photos > 1:
		first = "Thanks for the photos" + comma(f.customer) + "! I'll take a look and get back to you shortly."
	}
	third := "Would a quick call be easier? Let me know and I'll give you a ring."
	if f.business != "" {
		third = "Thanks for contacting " + f.business + "! Would a quick call be easier? Let me know and I'll give you a ring."
	}
	return []string{
		first,
		"Happy to help! Could you share a few more details or a photo so we can take a look?",
		third,
	}
}

// onTheWay promises a heads-up, not a time: "We'll text you when Mike is
// on the way." ("I'll ... I'm" when the author is the technician).
func onTheWay(t techRef) string {
	if t.self {
		return "I'll text you when I'm on the way."
	}
	return "We'll text you when " + t.is() + " on the way."
}

func upperFirst(s string) string {
	if s != "" && s[0] >= 'a' && s[0] <= 'z' {
		return string(s[0]-'a'+'A') + s[1:]
	}
	return s
}
