"""The password policy, one function used wherever a password is set or presented.

A password is 10 to 128 characters and not guessable: zxcvbn (Dropbox's estimator, with
its lists of common passwords, names, words, keyboard walks and repeats) must put it at
score 3 or more (about 10^8 guesses), the user's own e-mail and name counting as known
words. Sign-in applies the same function before it checks the hash, so a password that
could never have been set is refused the same way whoever the account is, and a long
password is never cut short on one side and not the other.
"""

from __future__ import annotations

from collections.abc import Iterable

MIN_LENGTH = 10
MAX_LENGTH = 128
MIN_SCORE = 3
# zxcvbn refuses longer input (its matching is quadratic); the rest adds strength anyway
_ESTIMATED_PREFIX = 72


class WeakPassword(ValueError):
    """The password breaks the policy; the message says how, in words for the person."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason  # "short" | "long" | "weak": stable, for translations


def check_password(password: str, user_inputs: Iterable[str] = ()) -> None:
    """Raise WeakPassword unless `password` meets the policy."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword("short", f"a password needs at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise WeakPassword("long", f"a password has at most {MAX_LENGTH} characters")
    from zxcvbn import zxcvbn  # the gateway's and the admin command's dependency only

    words = [w for value in user_inputs for w in value.replace("@", " ").replace(".", " ").split() if len(w) > 2]
    result = zxcvbn(password[:_ESTIMATED_PREFIX], user_inputs=words)
    if int(result["score"]) < MIN_SCORE:
        hint = (result.get("feedback") or {}).get("warning") or "it is a common or easily guessed password"
        raise WeakPassword("weak", f"this password is too easy to guess ({hint.rstrip('.').lower()}); "
                                   "use a longer phrase of unrelated words")
