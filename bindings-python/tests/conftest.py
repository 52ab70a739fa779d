"""Shared helpers of the keycustody Python tests."""

import pathlib

import keycustody

REPO = pathlib.Path(__file__).resolve().parents[2]
VECTORS = REPO / "tests" / "vectors"

# Every core error kind and the one Python class it must raise (src/errors.rs maps them).
KIND_CLASS = {
    "DecryptFailed": keycustody.DecryptError,
    "Malformed": keycustody.MalformedError,
    "UnknownKey": keycustody.UnknownKeyError,
    "KeyRetired": keycustody.KeyRetiredError,
    "PrimaryKey": keycustody.PrimaryKeyError,
    "InvalidOwner": keycustody.InvalidOwnerError,
    "InvalidArgument": keycustody.InvalidArgumentError,
    "TooLarge": keycustody.TooLargeError,
    "InsecurePermissions": keycustody.InsecurePermissionsError,
    "MissingEnvVar": keycustody.MissingEnvVarError,
    "Io": keycustody.IoError,
    "RandomUnavailable": keycustody.RandomUnavailableError,
    "SignatureInvalid": keycustody.SignatureError,
    "TimestampOutOfTolerance": keycustody.TimestampError,
    "Expired": keycustody.ExpiredError,
    "NotYetValid": keycustody.NotYetValidError,
    "Replayed": keycustody.ReplayError,
    "Locked": keycustody.LockedError,
    "ClaimMismatch": keycustody.ClaimMismatchError,
}


def code_of(kind):
    """KC_ + the kind in SCREAMING_SNAKE_CASE (DecryptFailed -> KC_DECRYPT_FAILED)."""
    out = []
    for i, ch in enumerate(kind):
        if ch.isupper() and i:
            out.append("_")
        out.append(ch.upper())
    return "KC_" + "".join(out)


def assert_kc_error(excinfo, kind):
    """The raised exception is exactly the class of `kind`, with matching kind and code."""
    e = excinfo.value
    assert type(e) is KIND_CLASS[kind], (type(e), kind)
    assert e.kind == kind
    assert e.code == code_of(kind)
