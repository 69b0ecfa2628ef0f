"""Every sentence approach-bot says of its own, in one table.

Answers are otherwise made of document text; these are the words around it:
declining, asking back, replying to small talk, describing the corpus. Each is
a ``str.format`` template; the names in braces are filled by the caller.
"""

from __future__ import annotations

#: The documents hold nothing that answers the question.
NOT_FOUND = "I could not find this in the indexed documents."

#: Added to NOT_FOUND when the index can suggest questions.
TRY = "Try asking about a topic they cover, for example: {examples}."

#: The question is about something specific (a name, a law, a number) the documents never mention.
NOT_COVERED = "The documents do not mention {terms}, so I cannot answer that from them."

#: Offered after NOT_COVERED when some pages are close to the question (no citation: not an answer).
CLOSEST = "The closest pages they have are: {titles}."

#: A follow-up with nothing to follow ("who should work on it?" as the first question).
CLARIFY = "Which topic do you mean? Name one in your question, for example: {examples}."

#: Small talk, by kind. Never cited; never given the conversation's topic.
SMALL_TALK = {
    "greeting": "Hello! I answer questions from {corpus}, citing the passages I use. For example: {example}",
    "thanks": "You're welcome. Ask me anything else about {corpus}.",
    "bye": "Goodbye!",
    "identity": (
        "I am approach-bot: I answer questions from {corpus} ({documents} pages), quoting and citing the "
        "passages I use, and I say so when the pages do not cover a question."
    ),
    "wellbeing": "I'm fine, thank you. What would you like to know about {corpus}?",
    "other": "I can only answer questions about {corpus}. For example: {example}",
}

#: "What can you answer?" — the catalog of the index.
CATALOG = "I can answer questions about {count} pages of {corpus}, among them:"
CATALOG_MORE = "…and {more} more."

#: The corpus when its profile gives it no name.
DEFAULT_CORPUS = "the indexed documents"

#: Notices on an answer.
QUESTION_CUT = "Your question was longer than {limit} characters; only its beginning was searched."

#: Lead sentences of a grounded answer (each followed by its citation).
LEAD_CRUX = "The documents treat this as an open question ({question}), with {sides}:"
LEAD_UNSURE = "Two pages come closest to this: {pages}."
LEAD_COMPARE = "Side by side, from each page: {pages}."
