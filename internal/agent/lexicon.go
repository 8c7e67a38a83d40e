package agent

import (
	"hash/maphash"
	"slices"
	"sync"
)

// The offline agent's vocabulary, as data: the words that decide what a
// message asks for, and the words around them that carry no meaning. The
// parser (parse.go) reads a message through these tables; extending what it
// understands is usually adding a phrase here.

// A phrase is a sequence of lower-case words; "'s" and the like are their
// own words after tokenizing ("what's" is "what" "'s").
type phrase []string

// The rules call it inline with their own lists, on every message, so each
// list is split once and then served from a cache (the result is shared:
// never change it).
func phrases(ss ...string) []phrase {
	var h maphash.Hash
	h.SetSeed(phraseSeed)
	for _, s := range ss {
		h.WriteString(s)
		h.WriteByte(0)
	}
	key := h.Sum64()
	if e, ok := phraseCache.Load(key); ok && slices.Equal(e.(*phraseList).src, ss) {
		return e.(*phraseList).out
	}
	out := make([]phrase, len(ss))
	for i, s := range ss {
		out[i] = splitWords(s)
	}
	phraseCache.Store(key, &phraseList{src: slices.Clone(ss), out: out})
	return out
}

var (
	phraseSeed  = maphash.MakeSeed()
	phraseCache sync.Map // hash of the strings → *phraseList
)

type phraseList struct {
	src []string
	out []phrase
}

// fillers open or close a request without changing it.
var (
	leadFillers = phrases(
		"please", "pls", "plz", "plse", "kindly", "ok", "okay", "ok so", "so", "and", "also", "now", "then", "and then",
		"hey", "hi", "hello", "yo", "oh", "um", "uh", "hmm", "well", "right", "alright", "actually", "just", "quickly",
		"yay", "great", "cool", "nice", "thanks", "taskchat", "bot", "assistant",
		"can you", "could you", "would you", "will you", "can u", "could u", "would u", "will u",
		"would you kindly", "would you mind", "do you mind", "would you be able to", "are you able to",
		"i'd like you to", "i would like you to", "i want you to", "i need you to", "go ahead and", "let's", "lets",
		"i'd like to", "i would like to", "i want to", "i wanna", "could i", "can i", "may i", "could we", "can we",
	)
	tailFillers = phrases(
		"please", "pls", "plz", "for me", "thanks", "thank you", "thank u", "thx", "ty", "cheers", "now", "right now",
		"asap", "and thanks", "please and thanks", "please and thank you", "if you can", "if you could", "for now",
	)
)

// shorthand spells out chat shorthand before anything else reads a word.
var shorthand = map[string][]string{
	"u": {"you"}, "r": {"are"}, "ur": {"your"}, "pls": {"please"}, "plz": {"please"}, "plse": {"please"},
	"thx": {"thanks"}, "thanx": {"thanks"}, "tnx": {"thanks"}, "ty": {"thanks"}, "im": {"i'm"}, "ive": {"i've"},
	"dont": {"don't"}, "didnt": {"didn't"}, "havent": {"haven't"}, "hasnt": {"hasn't"}, "isnt": {"isn't"},
	"arent": {"aren't"}, "wasnt": {"wasn't"}, "cant": {"can't"}, "wont": {"won't"}, "doesnt": {"doesn't"},
	"gimme": {"give", "me"}, "lemme": {"let", "me"}, "wanna": {"want", "to"}, "gotta": {"got", "to"},
	"whats": {"what", "'s"}, "wats": {"what", "'s"}, "todos": {"tasks"}, "to-dos": {"tasks"}, "todo's": {"tasks"},
	"teh": {"the"}, "hte": {"the"}, "tmrw": {"tomorrow"}, "2moro": {"tomorrow"}, "b4": {"before"}, "msg": {"message"},
}

// Verbs that open a request, by what they ask for. Several words are one
// verb ("tick off", "get rid of"); a verb's object follows it, or for some
// ("tick … off", "take … off") sits inside it.
var (
	addVerbs = phrases(
		"add", "ad", "create", "make", "new", "insert", "save", "log", "schedule", "put down", "put", "jot down",
		"jot", "write down", "note down", "set up", "enter", "record", "attach",
	)
	// addVerbsAlone add whatever follows them; the others only add "a task
	// …", "a reminder …" and the like ("make dinner" is not a request).
	addVerbsAlone = phrases("add", "ad", "jot down", "jot", "write down", "note down", "save", "log", "insert", "schedule")
	// addFrames say "I have to do this" without a verb for the task list:
	// the rest of the sentence is the task.
	addFrames = phrases(
		"remind me to", "remind me that i need to", "remind me that i have to", "remind me about", "remind me of",
		"i need to remember to", "i have to remember to", "i must remember to", "i should remember to",
		"i've got to remember to", "remember to", "i need to", "i have to", "i must", "i should", "i've got to",
		"i got to", "i ought to", "i gotta", "need to", "have to", "must", "don't let me forget to",
		"don't let me forget about", "do not let me forget to", "do not let me forget about", "don't forget to",
		"do not forget to", "note to self", "todo", "to do", "to-do", "reminder", "reminder to",
	)
	listVerbs = phrases(
		"show", "list", "display", "view", "see", "get", "give", "tell", "print", "read", "check", "pull up",
		"bring up", "open", "fetch", "what", "which", "how many", "any", "anything", "is there", "are there",
		"do i have", "have i got", "let me see", "let me know", "remind me what", "overview", "summary",
	)
	completeVerbs = phrases(
		"complete", "finish", "finish off", "tick off", "tick", "check off", "check", "cross off", "cross out",
		"cross", "mark off", "close", "close out", "wrap up", "resolve", "done with", "mark", "flag", "set",
		"switch", "move", "put", "strike", "strike off", "wrapped up", "knock off", "knocked off",
	)
	deleteVerbs = phrases(
		"delete", "remove", "cancel", "clear", "clear out", "drop", "erase", "trash", "scrap", "scratch", "discard",
		"get rid of", "forget", "forget about", "throw away", "throw out", "take off", "take", "wipe", "wipe out",
		"purge", "ditch", "bin", "nix", "dump",
	)
	updateVerbs = phrases(
		"change", "update", "rename", "edit", "modify", "retitle", "reword", "rewrite", "alter", "set", "amend",
		"adjust", "replace", "describe",
	)
)

// pastTense are finished-doing words as people report a task done: "I
// booked the haircut" completes "Book a haircut". Regular verbs end in -ed;
// these are the irregular ones, each with its present.
var pastTense = map[string]string{
	"bought": "buy", "brought": "bring", "built": "build", "came": "come", "caught": "catch", "did": "do",
	"drew": "draw", "drove": "drive", "ate": "eat", "fed": "feed", "found": "find", "fought": "fight",
	"forgot": "forget", "gave": "give", "went": "go", "got": "get", "grew": "grow", "hung": "hang", "had": "have",
	"heard": "hear", "hid": "hide", "held": "hold", "kept": "keep", "knew": "know", "laid": "lay", "led": "lead",
	"left": "leave", "lent": "lend", "lit": "light", "made": "make", "met": "meet", "paid": "pay", "ran": "run",
	"rang": "ring", "rode": "ride", "said": "say", "saw": "see", "sold": "sell", "sent": "send", "set": "set",
	"sang": "sing", "sat": "sit", "slept": "sleep", "spent": "spend", "spoke": "speak", "stood": "stand",
	"swept": "sweep", "swam": "swim", "took": "take", "taught": "teach", "told": "tell", "thought": "think",
	"threw": "throw", "understood": "understand", "woke": "wake", "wore": "wear", "won": "win", "wrote": "write",
	"read": "read", "put": "put", "cut": "cut", "shut": "shut", "hit": "hit", "quit": "quit", "sorted": "sort",
	"done": "do", "written": "write", "taken": "take", "given": "give", "gone": "go", "eaten": "eat",
}

// Words about a task's state.
var (
	// doneWords say a task is finished.
	doneWords = phrases("done", "complete", "completed", "finished", "finish", "closed", "ticked off", "checked off",
		"crossed off", "accomplished", "achieved", "sorted", "handled", "taken care of", "dealt with", "over with",
		"wrapped up", "through", "all done", "all finished", "all set", "complete now", "done now")
	// pendingWords ask for what is still to do.
	pendingWords = phrases("pending", "left", "remaining", "remain", "remains", "open", "outstanding", "unfinished",
		"incomplete", "undone", "not done", "not finished", "not completed", "still", "to do", "todo", "next",
		"haven't done", "have not done", "haven't finished", "haven't completed", "not yet", "aren't finished",
		"aren't done", "isn't done", "isn't finished", "got to do", "have to do", "need to do", "to work on",
		"unchecked", "active", "due", "upcoming")
	// completedWords ask for what is done, in a list request.
	completedWords = phrases("completed", "complete", "done", "finished", "ticked off", "checked off", "crossed off",
		"accomplished", "achieved", "closed", "did", "have done", "'ve done", "finish")
	// reopenWords ask to make a finished task pending again, which no tool can do.
	reopenWords = phrases("reopen", "re-open", "uncheck", "untick", "unmark", "undo", "back to pending", "not done",
		"incomplete", "pending", "open again", "mark undone", "unfinished", "not complete", "not completed")
)

// Words that refer to tasks rather than name one.
var (
	taskNouns = []string{"task", "tasks", "todo", "to-do", "item", "items", "entry", "entries", "thing", "things",
		"one", "ones", "reminder", "reminders", "stuff", "list", "note"}
	// allWords name every task: requests with them are bulk, which the
	// agent refuses ("everything I've finished", "the whole list").
	allWords = phrases("all", "every", "everything", "each", "whole", "entire", "both of them", "all of them",
		"every single", "all my", "all the", "whatever", "anything", "the lot")
	pronouns = phrases("it", "that", "that one", "this", "this one", "that task", "this task", "the same one",
		"the last one i added", "the one i just added", "the one i added", "what i just added")
	positionWords = map[string]int{
		"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4, "fifth": 5,
		"5th": 5, "sixth": 6, "6th": 6, "seventh": 7, "7th": 7, "eighth": 8, "8th": 8, "ninth": 9, "9th": 9,
		"tenth": 10, "10th": 10, "top": 1, "last": -1, "final": -1, "bottom": -1, "latest": -1, "newest": -1,
	}
	// refFillers surround a task's title when people refer to it.
	refFillers = []string{"the", "my", "a", "an", "this", "that", "task", "tasks", "item", "todo", "to-do",
		"one", "called", "named", "titled", "about", "for", "entry", "thing", "reminder", "number", "no", "no.",
		"#", "id", "with", "which", "says", "said", "saying", "labelled", "labeled", "on", "the task", "of"}
)

// Chit-chat, answered without touching anything.
var (
	greetings = phrases("hi", "hello", "hey", "hiya", "howdy", "yo", "hola", "greetings", "good morning",
		"good afternoon", "good evening", "good day", "what's up", "sup", "hey there", "hi there", "hello there",
		"morning", "evening")
	thanks = phrases("thanks", "thank you", "thank you so much", "thank you very much", "thanks a lot", "cheers",
		"great", "awesome", "perfect", "cool", "nice", "ok", "okay", "got it", "sure", "k", "kk", "alright",
		"fine", "good", "sounds good", "yes", "yep", "yeah", "wait", "hmm", "hm", "lol",
		"wow", "amazing", "brilliant", "excellent", "sweet", "noted", "understood", "thanks so much",
		"much appreciated", "appreciate it", "you're the best", "thanks a bunch", "thanks a million", "ta", "all good",
		"you're great", "you rock", "good job", "well done", "great job", "nice one")
	// declines answer "anything else?" with no.
	declines = phrases("no", "nope", "nah", "no thanks", "no thank you", "never mind", "nevermind", "nothing",
		"nothing else", "not now", "maybe later", "forget it", "no need", "that's fine", "nvm")
	goodbyes = phrases("bye", "goodbye", "good bye", "bye bye", "see you", "see you later", "see ya", "see you tomorrow",
		"good night", "goodnight", "night", "later", "catch you later", "talk later", "gotta run", "got to run",
		"gotta go", "got to go", "that's all", "that's it", "that is all", "i'm done here", "i'm done",
		"i'm finished", "all done", "i'm through", "done for today", "done for now", "finished for now",
		"finished for today", "finished for the day", "done for the day", "i'm off", "signing off", "cya",
		"that's everything", "that is everything", "that's all for now", "that's it for now", "i'm all done",
		"all done for today", "all done for now", "done for tonight", "i'm good", "we're done", "i'm set")
	helpRequests = phrases("help", "help me", "what can you do", "what do you do", "how does this work",
		"how does it work", "how do i use this", "how do i use you", "commands", "usage", "menu", "options",
		"what are your commands", "what can i say", "how do you work", "instructions")
)
