"""What the verifiers' findings mean, in the reader's language: `chain.py` and
`checkpoint.py` name problems with fixed English sentences (the command line prints them),
and the verify page shows these translations."""

from __future__ import annotations

from app.audit import checkpoint as checkpoints
from app.i18n import gettext as _


def problem_label(problem: str | None) -> str:
    labels = {
        # The chain (chain.py)
        "not valid JSON": _("The line is not valid JSON."),
        "not a JSON object": _("The line is not a JSON object."),
        "missing fields": _("Fields are missing."),
        "seq is not an integer": _("The sequence number is not a whole number."),
        "entry belongs to another chain": _("The entry belongs to another chain."),
        "seq is not consecutive": _("The sequence number does not follow on."),
        "prev does not match the hash of the entry before": _(
            "Its link (prev) does not match the hash of the entry before: an entry was "
            "removed, inserted or changed."
        ),
        "entry cannot be put in canonical form": _("The entry cannot be put in canonical form."),
        "hash does not match the entry's content": _(
            "Its hash does not match its content: the entry was changed."
        ),
        "the export holds no entries": _("The file holds no entries."),
        "unknown version": _("The entry has a version this verifier does not know."),
        "fields that do not belong in the entry": _(
            "The entry has fields that do not belong in it."
        ),
        "fields are not text": _("Fields that should be text are not."),
        "a version-1 entry follows a version-2 entry": _(
            "A version-1 entry follows a version-2 entry; a chain never goes back to version 1."
        ),
        "the salt is not 64 lowercase hexadecimal characters": _(
            "The salt is not 64 lowercase hexadecimal characters."
        ),
        "the body is not an actor and data": _(
            "The body is not an object with only an actor and data."
        ),
        "commitment does not match the body and salt": _(
            "Its commitment does not match its body and salt: the private part of the entry "
            "was changed."
        ),
        # The checkpoint (checkpoint.py)
        "the checkpoint is not valid JSON": _("The checkpoint is not valid JSON."),
        "the checkpoint is not a JSON object": _("The checkpoint is not a JSON object."),
        "the checkpoint lacks fields": _("The checkpoint lacks fields."),
        "the checkpoint has an unknown version": _(
            "The checkpoint has a version this verifier does not know."
        ),
        "the checkpoint's seq is not a positive whole number": _(
            "The checkpoint's sequence number is not a positive whole number."
        ),
        "checkpoint fields are not in their form": _(
            "Fields of the checkpoint are not in their form."
        ),
        "the keys file is not valid JSON": _("The keys file is not valid JSON."),
        "the keys file lists no keys": _("The keys file lists no keys."),
        "a key in the keys file is not in its form": _(
            "A key in the keys file is not in its form."
        ),
        "the checkpoint is signed with a key the platform does not publish": _(
            "The checkpoint is signed with a key the platform does not publish."
        ),
        "the signature does not match the checkpoint": _(
            "The signature does not match the checkpoint: it was not signed by this key, or "
            "the checkpoint was changed."
        ),
        "the checkpoint's time is outside the time its key was in use": _(
            "The checkpoint's time lies outside the time its key was in use."
        ),
        "the checkpoint is of another chain": _("The checkpoint is of another chain."),
        "the chain no longer reaches the checkpoint's entry": _(
            "The chain no longer reaches the checkpoint's entry: entries were removed."
        ),
        "the checkpoint's entry has another hash: the chain was rewritten": _(
            "The checkpoint's entry now has another hash: the chain was rewritten after the "
            "checkpoint was signed."
        ),
    }
    return labels.get(problem or "", problem or "")


def step_label(step: str) -> str:
    labels = {
        checkpoints.SIGNATURE: _("The checkpoint's signature"),
        checkpoints.CHAIN: _("The chain"),
        checkpoints.CONTAINS: _("The checkpoint's entry in the chain"),
    }
    return labels.get(step, step)
