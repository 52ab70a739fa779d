"""verify_standard_webhook takes the request's header mapping as it comes (issue 13 item 6):
any Mapping[str, str] (a dict, Starlette's Headers, ...), names compared case-insensitively;
a missing or repeated header is a MalformedError, a non-mapping a TypeError, never a crash."""

import collections
import types

import pytest

import keycustody as kc

NOW = 1_700_000_000
SECRET = "whsec_" + "A" * 43
BODY = b'{"type":"user.created"}'
SIG = kc.sign_standard_webhook(BODY, "msg_1", NOW, SECRET)
HEADERS = {"webhook-id": "msg_1", "webhook-timestamp": str(NOW), "webhook-signature": SIG}


def verify(headers):
    return kc.verify_standard_webhook(BODY, headers, SECRET, now=NOW)


def malformed(headers, kind):
    with pytest.raises(kc.MalformedError) as ei:
        verify(headers)
    assert ei.value.malformed_kind == kind
    return ei.value


def test_dicts_and_other_mappings_in_any_case():
    assert verify(HEADERS) == NOW
    assert verify({"Webhook-Id": "msg_1", "WEBHOOK-TIMESTAMP": str(NOW), "webhook-Signature": SIG}) == NOW
    assert verify({**HEADERS, "content-type": "application/json", "x-other": 42}) == NOW
    assert verify(types.MappingProxyType(HEADERS)) == NOW
    assert verify(collections.OrderedDict(HEADERS)) == NOW
    assert kc.verify_standard_webhook(BODY, HEADERS, SECRET, 300, NOW) == NOW
    with pytest.raises(kc.SignatureError):
        verify({**HEADERS, "webhook-id": "msg_2"})


def test_missing_and_repeated_headers():
    malformed({}, "WebhookHeaderMissing")
    malformed({"webhook-id": "msg_1", "webhook-timestamp": str(NOW)}, "WebhookHeaderMissing")
    malformed({**HEADERS, "Webhook-Id": "msg_1"}, "WebhookHeaderRepeated")
    malformed({**HEADERS, "WEBHOOK-SIGNATURE": SIG}, "WebhookHeaderRepeated")

    class Multi:
        """A multi-dict whose items() yields a repeated header twice (like Starlette's)."""

        def items(self):
            return [*HEADERS.items(), ("webhook-timestamp", str(NOW))]

    malformed(Multi(), "WebhookHeaderRepeated")


@pytest.mark.parametrize(
    "bad",
    [
        "webhook-id: msg_1",
        b"webhook-id",
        42,
        None,
        [("webhook-id", "msg_1")],
        ("webhook-id", "msg_1"),
        object(),
        {**HEADERS, "webhook-id": 1},
        {**HEADERS, "webhook-signature": [SIG]},
        {**HEADERS, "webhook-id": b"msg_1"},
        {1: "x", **HEADERS},
        types.SimpleNamespace(items=lambda: 42),
        types.SimpleNamespace(items=lambda: [("webhook-id",)]),
        types.SimpleNamespace(items="not callable"),
    ],
)
def test_not_a_header_mapping_is_a_type_error(bad):
    with pytest.raises(TypeError) as ei:
        verify(bad)
    assert not isinstance(ei.value, kc.Error)
    assert "msg_1" not in str(ei.value)


def test_lone_surrogate_in_a_value_is_malformed_utf8():
    e = malformed({**HEADERS, "webhook-id": "msg_\ud800"}, "Utf8")
    assert "\ud800" not in str(e)
    # In a name it cannot be one of the three: that header is simply absent.
    malformed({"webhook-id\ud800": "msg_1", "webhook-timestamp": str(NOW), "webhook-signature": SIG}, "WebhookHeaderMissing")


def test_starlette_headers():
    datastructures = pytest.importorskip("starlette.datastructures")
    Headers = datastructures.Headers
    raw = [(b"content-type", b"application/json")] + [(k.encode(), v.encode()) for k, v in HEADERS.items()]
    assert verify(Headers(raw=raw)) == NOW
    assert verify(Headers(headers={"Webhook-Id": "msg_1", "Webhook-Timestamp": str(NOW), "Webhook-Signature": SIG})) == NOW
    # A header the request carries twice: Starlette's items() yields both.
    twice = Headers(raw=raw + [(b"webhook-signature", SIG.encode())])
    assert len(twice.getlist("webhook-signature")) == 2
    malformed(twice, "WebhookHeaderRepeated")
    malformed(Headers(raw=raw[:2]), "WebhookHeaderMissing")
