package rules

import (
	c "github.com/fieldtalk/fieldtalk/conversations"
)

// hazard is the kind of danger an emergency text describes; it picks the
// safety line of the reply.
type hazard int

const (
	hazardNone hazard = iota
	hazardGeneric
	hazardCold
	hazardWater
	hazardSewage
	hazardElectrical
	hazardCO
	hazardGas // the highest: when a text names several, the reply speaks to this one
)

// String names the hazard the way the reply templates do ("safety.gas").
func (h hazard) String() string {
	switch h {
	case hazardCold:
		return "cold"
	case hazardWater:
		return "water"
	case hazardSewage:
		return "sewage"
	case hazardElectrical:
		return "electrical"
	case hazardCO:
		return "co"
	case hazardGas:
		return "gas"
	}
	return "generic"
}

// cueSpec is one cue as written: a pattern, the intent it votes for and how
// strongly.
//
// A pattern is a sequence of slots separated by spaces. A slot lists
// alternatives separated by "|"; an alternative ending in "*" matches any word
// it begins. ".." before a slot lets up to three words come between it and
// the previous slot; without it the slots are adjacent. A final slot starting
// with "!" lists words that cancel the match when they follow it within three
// words ("how much !longer" is not a price question). Flags before the
// pattern: "~" marks a soft sign of its intent (a complaint that only says
// nobody is here yet yields to a question about arrival), "@" a cue that
// counts only when the text names a day or time ("is saturday an option"),
// "^" one that counts only when the text speaks of an install ("so loud
// since the install").
//
// A cue that "not", "no", "dont", "never" (and the like) precede within
// three words of its clause, with no "but" or "just" in between, counts
// against its intent: "not an emergency", "please dont cancel, just tell me
// when". Slots never match across a clause break (. , ! ? ; or a dash).
type cueSpec struct {
	intent  c.Intent
	weight  float64
	pattern string
	hazard  hazard
}

// threshold is the score an intent needs to be detected. An emergency needs
// more than one weak sign ("baby" alone is not one; "no heat" and "baby" is).
func threshold(i c.Intent) float64 {
	if i == c.IntentEmergency {
		return 2
	}
	return 1
}

const (
	techWords = "tech|plumber|electrician|guy|guys|he|she|they|someone|anyone|crew|team|installer|man|you"
	days      = "monday|tuesday|wednesday|thursday|friday|saturday|sunday|weekend|tomorrow|week|morning|afternoon|evening"
)

// cueTable is every cue. It is data, not code: extend it, then run the
// labelled-set test.
func cueTable() []cueSpec {
	e, cp, ca, rs := c.IntentEmergency, c.IntentComplaint, c.IntentCancel, c.IntentReschedule
	eta, ac, pr, pay := c.IntentETA, c.IntentAccess, c.IntentPricing, c.IntentPayment
	cf, th := c.IntentConfirm, c.IntentThanks
	return []cueSpec{
		// Emergency: gas and carbon monoxide.
		{e, 2, "smell*|odor*|odour*|stink*|whiff .. gas|propane", hazardGas},
		{e, 2, "gas|propane .. smell*|odor*|odour*|leak*|hiss*", hazardGas},
		{e, 2, "leak*|leaking .. gas|propane", hazardGas},
		// Gas and a smell anywhere in one text: worth treating as a leak.
		{e, 1, "gas|propane", hazardGas},
		{e, 1, "smell*|odor*|odour*|stink*", hazardGeneric},
		{e, 2, "rotten egg*", hazardGas},
		{e, 2, "sulfur|sulphur", hazardGas},
		{e, 2, "carbon monoxide", hazardCO},
		{e, 2, "monoxide", hazardCO},
		{e, 2, "co alarm*|detector*|monitor*|sensor*", hazardCO},
		{e, 1, "co .. going|beeping|alarm*|off", hazardCO},
		// Emergency: water and sewage.
		{e, 2, "flood*", hazardWater},
		{e, 2, "burst*|exploded", hazardWater},
		{e, 2, "busted .. pipe*|line|main", hazardWater},
		{e, 2, "pipe*|line|main .. broke|broken|split|cracked|blew|busted", hazardWater},
		{e, 2, "water .. everywhere|pouring|gushing|spraying|spewing|rising", hazardWater},
		{e, 2, "pouring|gushing|spraying|spewing .. water|ceiling|everywhere", hazardWater},
		{e, 2, "leak*|dripping .. everywhere", hazardWater},
		{e, 1, "leak*|dripping .. lot|fast|bad|badly|ceiling", hazardWater},
		{e, 1.5, "ceiling .. leak*|drip*|pouring|caving|collaps*|sagging|falling|bulging", hazardWater},
		{e, 1.5, "overflow*", hazardWater},
		{e, 1, "wont|cant|not .. stop|stopping", hazardWater},
		{e, 1, "cant|cannot .. find|turn|shut .. shutoff|valve|off", hazardWater},
		{e, 1.5, "frozen|froze .. pipe*|line*", hazardWater},
		{e, 2, "sewage|sewer .. back*|coming|overflow*|everywhere|up", hazardSewage},
		{e, 1, "sewage", hazardSewage},
		{e, 1, "back* up .. toilet|tub|drain|sink|shower|basement|floor", hazardSewage},
		// Emergency: electrical and fire.
		{e, 2, "spark*", hazardElectrical},
		{e, 2, "smok*", hazardElectrical},
		{e, 2, "fire|flames|flame|blaze", hazardElectrical},
		{e, 2, "burn*|burnt|melt*|scorch* .. smell*|odor*|plastic|wire*|outlet*|panel|breaker*|switch*", hazardElectrical},
		{e, 2, "smell*|odor* .. burn*|plastic|electrical", hazardElectrical},
		{e, 1, "burning", hazardElectrical},
		{e, 1.5, "melt*|scorch*", hazardElectrical},
		{e, 2, "shock*|electrocut*|zapped", hazardElectrical},
		{e, 1, "exposed|live|bare .. wire*", hazardElectrical},
		{e, 1, "hot to the touch", hazardElectrical},
		{e, 1, "buzz*|crackl* .. panel|outlet*|breaker*|switch*", hazardElectrical},
		{e, 0.5, "no power", hazardElectrical},
		{e, 0.5, "outage|blackout", hazardElectrical},
		// Emergency: no heat (or cooling) for someone vulnerable.
		{e, 1, "no|without|lost|out .. heat|heating", hazardCold},
		{e, 1, "heat|heating|furnace|boiler .. out|off|died|dead|down|broke|broken|stopped|quit", hazardCold},
		{e, 0.5, "no|without|lost .. ac|air|cooling", hazardCold},
		{e, 1, "baby|babies|newborn|infant|toddler|elderly|grandma|grandpa|grandmother|grandfather|mom|mother|dad|father|oxygen|disabled|pregnant|freezing|degrees|hypothermia|heatstroke", hazardCold},
		// Emergency: said outright.
		{e, 2, "emergency|emoalarm", hazardGeneric},
		{e, 2, "911|evacuat*", hazardGeneric},
		{e, 1, "urgent|urgently", hazardGeneric},
		{e, 1.5, "danger*|unsafe|hazard*", hazardGeneric},
		{e, 0.5, "asap|immediately|hurry|help", hazardGeneric},

		// Complaint.
		{cp, 1.5, "ridiculous|unacceptable|terrible|horrible|awful|worst|pathetic|disgusting|incompetent|unprofessional|rude|disrespectful|useless|nightmare|outrageous|absurd|shameful|joke", 0},
		{cp, 1.5, "disappoint*|unhappy|upset|angry|furious|frustrat*|livid|pissed|annoyed|dissatisfied|unsatisfied|emoangry", 0},
		{cp, 1.5, "not .. happy|satisfied|pleased|acceptable|fixed|resolved", 0},
		{cp, 1.5, "isnt|wasnt|didnt|never|havent|hasnt .. fixed|fix|resolved|repaired", 0},
		{cp, 1.5, "still not|no", 0},
		{cp, 1.5, "still .. leaking|leaks|leak|broken|broke|dripping|tripping|doesnt|isnt|wont|clogged|happening|smells|making|cold", 0},
		{cp, 1.5, "stopped|broke|quit|died|failed|leaking|leaked|tripping|clogged|happened|happening|backed .. again", 0},
		{cp, 0.5, "again", 0},
		{cp, 1.5, "second|2nd|third|3rd|fourth|4th|fifth|5th .. time", 0},
		{cp, 1, "same .. problem|issue|thing|pipe|leak", 0},
		{cp, 0.5, "keeps|kept .. tripping|leaking|breaking|happening|failing|clogging", 0},
		{cp, 0.5, "like before", 0},
		{cp, 0.5, "last time", 0},
		{cp, 1.5, "~nobody|noone .. showed|show*|came|come|called|calls|contacted|answer*|respond*|got", 0},
		{cp, 1.5, "~no one .. showed|show*|came|come|called|calls|contacted|answer*|respond*|got", 0},
		{cp, 1.5, "never .. showed|show*|came|come|arrived|called|responded|got|heard", 0},
		{cp, 1.5, "no show", 0},
		{cp, 1.5, "noshow", 0},
		{cp, 1.5, "stood up", 0},
		{cp, 1.5, "waited|waiting|wait .. hours|forever|since", 0},
		{cp, 1.5, "waited|waiting|wait .. all|whole day|morning|afternoon", 0},
		{cp, 0.5, "~been waiting", 0},
		{cp, 1, "took .. day|time off", 0},
		{cp, 1, "took .. off work", 0},
		{cp, 1.5, "mess|messy", 0},
		{cp, 1.5, "damage*|scratch*|dented|stain*|ruined !appointment|visit|tomorrow|today|that|it|appt", 0},
		{cp, 1.5, "charged|billed|charge .. twice|double", 0},
		{cp, 1.5, "overcharg*|overbill*", 0},
		{cp, 1.5, "double charged|billed", 0},
		{cp, 1.5, "why .. charged|charging|billed|charge", 0},
		{cp, 1.5, "refund|refunds|refunded", 0},
		{cp, 1.5, "money back", 0},
		{cp, 1.5, "complain*", 0},
		{cp, 1.5, "bad|negative|terrible|horrible .. review", 0},
		{cp, 1.5, "speak|talk .. manager|supervisor|owner", 0},
		{cp, 1.5, "lawyer|attorney|bbb|lawsuit|sue", 0},
		{cp, 1.5, "scam*|ripoff", 0},
		{cp, 1.5, "ripped|rip off", 0},
		{cp, 1, "wtf|wth|smh", 0},
		{cp, 1.5, "sick|tired of", 0},
		{cp, 1.5, "fed up", 0},
		{cp, 1.5, "waste of", 0},
		{cp, 1.5, "ignoring|ignored", 0},
		{cp, 1.5, "late again", 0},
		{cp, 1.5, "always late", 0},
		{cp, 1.5, "said|told|quoted|promised .. and|but .. now|never|still|invoice|bill|billed|charged|charging|says", 0},

		// Cancel.
		{ca, 2, "cancel*", 0},
		{ca, 1.5, "call it off", 0},
		{ca, 1.5, "call off", 0},
		{ca, 1.5, "no need .. come|coming|anymore|service|visit|appointment|plumber|tech|electrician|send|out", 0},
		{ca, 1.5, "dont|doesnt|wont|not .. need|needing .. anymore|service|plumber|tech|electrician|appointment|visit|you|anyone|someone", 0},
		{ca, 1.5, "no longer need*", 0},
		{ca, 1.5, "dont .. send|come", 0},
		{ca, 1.5, "do not .. send|come", 0},
		{ca, 1.5, "nevermind", 0},
		{ca, 1.5, "take|took .. off .. schedule|list|calendar", 0},
		{ca, 1.5, "someone|somebody else", 0},
		{ca, 1.5, "another|different|other .. company|plumber|contractor|electrician|service|business", 0},
		{ca, 1, "fixed|sorted|figured .. myself|ourselves|itself|out", 0},
		{ca, 1, "got it fixed", 0},
		{ca, 1, "started working again", 0},
		{ca, 1, "working again now", 0},
		{ca, 1.5, "dont bother", 0},

		// Reschedule.
		{rs, 2, "reschedul*|postpone*|rebook*", 0},
		{rs, 1.5, "move|push|bump|shift|switch|change|moved|pushed|bumped|changed .. appointment|time|date|day|visit|slot|back|forward", 0},
		{rs, 1, "move|push|bump|shift|switch|change|moved|pushed|bumped|changed .. it|me|us", 0},
		{rs, 1.5, "appointment|visit .. moved|changed|pushed|bumped|rescheduled", 0},
		{rs, 1.5, "another|different|other|new .. day|time|date|week|slot|appointment|morning|afternoon|evening", 0},
		{rs, 1, "instead", 0},
		{rs, 1.5, "cant|cannot|wont|couldnt|unable .. make it", 0},
		{rs, 1.5, "cant|cannot|wont|couldnt|unable|not .. be .. home|there|here|around|available !but|key|unlocked|neighbor|let|door|code|so", 0},
		{rs, 1, "not available", 0},
		{rs, 1, "unavailable", 0},
		{rs, 1, "came up", 0},
		{rs, 1, "earlier|sooner", 0},
		{rs, 1, "anything|openings|opening|availability|available .. " + days + "|sooner|earlier|later", 0},
		{rs, 1.5, "rain check", 0},
		{rs, 1.5, "raincheck", 0},
		{rs, 0.5, "next week", 0},

		// ETA. "when ... coming" is a rule of its own (etaWhen).
		{eta, 2, "eta", 0},
		{eta, 1.5, "what time", 0},
		{eta, 2, "how much longer", 0},
		{eta, 2, "how far|close", 0},
		{eta, 1.5, "how long .. until|till|til|before|will|away|now", 0},
		{eta, 1.5, "where .. " + techWords + "|technician", 0},
		{eta, 1.5, "on .. way", 0},
		{eta, 1.5, "still coming", 0},
		{eta, 1.5, "coming still", 0},
		{eta, 1, "coming today|or", 0},
		{eta, 1.5, "is|are|was .. " + techWords + " .. coming|arriving|close|closer|near|nearby|late|leaving|running", 0},
		{eta, 1, "arrival|arrive|arriving|arrives", 0},
		{eta, 0.5, "any update*|news", 0},
		{eta, 0.5, "status", 0},
		{eta, 1.5, "heads up .. minutes|out|away|close", 0},
		{eta, 1.5, "minutes|hour|hours .. away|out", 0},
		{eta, 1.5, "leave|left .. yet", 0},
		{eta, 1.5, "here|there yet", 0},
		{eta, 1.5, "running late", 0},
		{eta, 1, "expect*", 0},

		// Access.
		{ac, 2, "gate|door|entry|entrance|building|garage|lockbox|alarm|access|front|keypad|lock .. code|pin|combo|combination", 0},
		{ac, 1.5, "code is", 0},
		{ac, 2, "code for|to .. gate|door|lockbox|garage|building|entry", 0},
		{ac, 2, "lockbox|keybox", 0},
		{ac, 2, "lock|key box", 0},
		{ac, 1.5, "key|keys .. under|mat|neighbor|lockbox|hidden|left|with|is|in", 0},
		{ac, 1.5, "has|have|leave|left|with .. key|keys", 0},
		{ac, 1.5, "dog|dogs|cat|cats|pet|pets|puppy", 0},
		{ac, 1.5, "park|parking|driveway|parked", 0},
		{ac, 1.5, "buzz|buzzer|intercom|doorbell|knock", 0},
		{ac, 1.5, "back|side|front|rear|garage|basement|main|service .. door|entrance|gate|entry", 0},
		{ac, 1, "gate", 0},
		{ac, 2, "let .. you|him|her|them|someone|tech|plumber|electrician|guy|guys in", 0},
		{ac, 1.5, "unlocked|unlock", 0},
		{ac, 1.5, "garage|door|gate .. open", 0},
		{ac, 1, "attic|crawlspace|closet|hatch|ladder|roof", 0},
		{ac, 1, "crawl space", 0},
		{ac, 1, "access", 0},
		{ac, 1.5, "apartment|suite|condo", 0},
		{ac, 0.5, "unit|floor", 0},
		{ac, 1.5, "reception|concierge|doorman", 0},
		{ac, 1.5, "front|security desk", 0},
		{ac, 1.5, "leasing office", 0},
		{ac, 1.5, "sign in", 0},
		{ac, 1.5, "call|text|ring .. when .. here|outside|there|arrive|downstairs|front", 0},
		{ac, 1, "come down|out", 0},
		{ac, 1, "meet .. you|him|outside", 0},
		{ac, 1, "hoa", 0},
		{ac, 1, "behind|around .. building|house|back|side|garage", 0},
		{ac, 0.5, "not home", 0},
		{ac, 0.5, "at work", 0},
		{ac, 0.5, "stairs|elevator|upstairs|downstairs", 0},

		// Pricing.
		{pr, 2, "how much !longer|time|owe|owed|balance|due|left", 0},
		{pr, 2, "cost*|price*|pricing|priced|ballpark", 0},
		{pr, 1.5, "quote*|estimate*|charge|charges|fee|fees", 0},
		{pr, 1, "rate|rates|hourly|diagnostic", 0},
		{pr, 1.5, "expensive|pricey|cheaper|cheap|affordable|afford", 0},
		{pr, 1.5, "discount*|coupon*|promo*", 0},
		{pr, 1, "deal|special|specials", 0},
		{pr, 1, "$", 0},
		{pr, 1.5, "what does .. run", 0},
		{pr, 0.5, "free", 0},

		// Payment.
		{pay, 2, "pay|paid|paying|payment*|paypal", 0},
		{pay, 2, "invoice*|receipt*|owe|owed", 0},
		{pay, 1.5, "bill|billing|balance|statement", 0},
		{pay, 0.5, "due", 0},
		{pay, 1, "card|credit|debit|declined", 0},
		{pay, 2, "venmo|zelle|cashapp|financ*", 0},
		{pay, 1.5, "cash|deposit", 0},
		{pay, 1.5, "send|accept|take|mail|write|by .. check|checks|cheque", 0},
		{pay, 0.5, "warranty|online|link", 0},

		// Confirm.
		{cf, 1.5, "yes|ok|correct", 0},
		{cf, 2, "confirm*", 0},
		{cf, 1, "sure|alright|aight|fine|perfect|cool", 0},
		{cf, 1.5, "works !great|perfect|perfectly|fine|again|now|well", 0},
		{cf, 0.5, "great|good", 0},
		{cf, 2, "sounds .. good|great|perfect|fine|ok", 0},
		{cf, 1.5, "see you", 0},
		{cf, 1.5, "still on", 0},
		{cf, 1.5, "will be home|here|there|around", 0},
		{cf, 1.5, "all good|set", 0},
		{cf, 1.5, "good to go", 0},
		{cf, 1, "please come", 0},
		{cf, 1, "thumbs up", 0},

		// Thanks.
		{th, 1.5, "thanks|thank|appreciate*|grateful|thankful|emothanks", 0},
		{th, 1.5, "great|good|awesome|amazing|excellent|fantastic|wonderful|nice|fabulous|outstanding .. job|work|service", 0},
		{th, 1.5, "lifesaver*", 0},
		{th, 1.5, "life saver*", 0},
		{th, 1.5, "are|you|were .. the best", 0},
		{th, 1, "was|were|did .. great|amazing|awesome|fantastic|excellent|wonderful", 0},
		{th, 1, "working|works|running perfectly|great", 0},
		{th, 0.5, "professional|courteous|polite|friendly|knowledgeable|recommend*|rock", 0},
		{th, 0.5, "have a good|great|nice .. day|weekend|night|one", 0},
		// Structure rather than phrases: each of these reads a kind of
		// sentence, in English or in the Spanish the lexicon maps to it.
		// Lateness and proximity are questions about arrival.
		{eta, 1.5, "close|closer|near|nearby !gate|door|valve|garage|the|it|up", 0},
		{eta, 1.5, "in the area", 0},
		{eta, 1.5, "around the corner", 0},
		{eta, 1.5, "almost here|there", 0},
		{eta, 1, "late|behind !fee|fees|payment|charge", 0},
		{eta, 1.5, "window|appointment|slot .. passed|over|ended|gone", 0},
		{eta, 1.5, "supposed to .. here|there|come|arrive|show", 0},
		{eta, 1.5, "supposed to be !fixed|working|done|repaired|covered|free|included", 0},
		{eta, 1.5, techWords + " is|are coming|arriving|showing|close|near", 0},
		{eta, 1.5, "still .. showing|show|coming|come", 0},
		{eta, 1.5, "left|leave|leaving .. yet", 0},
		{eta, 1.5, "will|would|is|gonna .. " + techWords + " .. be here|there", 0},
		{eta, 1.5, techWords + " .. make it !to|on", 0},
		{eta, 1, "how far|long !does|do|last|lasts|take|takes|will|would", 0},
		// A day or time proposed with a change: a move.
		{rs, 1.5, "@can|could|would .. we|you|he|they|someone .. do|try|make|come|go|switch", 0},
		{rs, 1.5, "@how|what about", 0},
		{rs, 1.5, "@option|possible|available|open|better|prefer|rather|instead|later|earlier", 0},
		{rs, 1.5, "@no go", 0},
		{rs, 1, "@can|could we|you", 0},
		{ac, 1.5, "is|are .. in|inside .. garage|basement|attic|closet|crawlspace|utility|laundry|hallway|yard", 0},
		{rs, 1.5, "@doesnt|dont|wont|not .. work|good", 0},
		{rs, 1.5, "need .. different|another|new .. day|time|date", 0},
		// Access details that correct earlier ones, and the address itself.
		{ac, 1.5, "address|addy !?", 0},
		{ac, 1.5, "correction|corrected", 0},
		{ac, 1.5, "wrong|correct .. address|number|unit|house|street|code", 0},
		{ac, 1.5, "code|codigo|pin|combo", 0},
		{ac, 1.5, "new|changed .. code", 0},
		// Price questions that never say "price".
		{pr, 1.5, "what .. charge|charges !me|twice|double", 0},
		{pr, 1.5, "looking at !photo|picture|pic", 0},
		{pr, 1.5, "run|runs me|us|you", 0},
		{pr, 1.5, "part|parts|job|repair|it|that .. run|runs", 0},
		{pr, 1.5, "how is much", 0},
		{pr, 1.5, "money wise", 0},
		{pr, 1.5, "moneywise", 0},
		{pr, 1, "per hour|visit|hr", 0},
		{pr, 1.5, "trip|service|call|visit .. charge|fee", 0},
		// Billing errors are complaints.
		{cp, 1.5, "charged|billed|charge|bill .. two|2 times", 0},
		{cp, 1.5, "charged|billed|charges|charge .. twice", 0},
		{cp, 1.5, "2|two|double|duplicate|extra .. charges|charge", 0},
		{cp, 1.5, "billed|charged 2x", 0},
		{cp, 1.5, "charged|billed .. but|and .. quoted|told|said", 0},
		// Noise after an install, and new work that already failed.
		{cp, 1.5, "^loud|noisy|noise|banging|bang|rattl*|humming|buzzing|grinding|squeal*|whistl*|vibrat*|clunk*|screech*|clank*", 0},
		{cp, 1.5, "jet engine", 0},
		{cp, 1.5, "already .. dripping|leaking|leaks|broken|broke|stopped|failed|clogged|loose|cracked", 0},
		{cp, 1.5, "tracked|mud|muddy|dirt|dirty|filthy", 0},
		{cp, 1.5, "bad|poor|lousy .. service|job|work", 0},
		{cp, 1.5, "nobody|noone .. answers|answer", 0},
		{cp, 1.5, "still .. slow|noisy|loud", 0},
		// Cancellations in other words.
		{ca, 1.5, "scratch|drop|forget .. appointment|visit|it|that|tomorrow|today", 0},
		{ca, 1.5, "fixed .. himself|herself|themselves", 0},
		{ca, 1.5, "sold the house", 0},
		{ca, 1, "sorted|handled|taken care", 0},
		// Payment, thanks and confirm in other words.
		{pay, 1.5, "mailed|sent|wrote .. check|checks|cheque", 0},
		{pay, 1, "total", 0},
		{th, 1.5, "you|guys|yall .. rock|rule", 0},
		{th, 1.5, "excellent|great|good .. service", 0},
		{cf, 1.5, "still good|fine|works", 0},
	}
}
