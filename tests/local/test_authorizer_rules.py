"""The local gateway's REQUEST authorizer rules as pure functions: the policy a Lambda authorizer
returns, and the identity sources that must be present before it is called."""

from __future__ import annotations

from wsgate_local import authorizer

ARN = "arn:aws:execute-api:us-east-1:123456789012:abc/dev/$connect"


def _policy(effect, resource, action="execute-api:Invoke", **extra):
    return {
        "principalId": "u",
        "policyDocument": {
            "Statement": [{"Effect": effect, "Action": action, "Resource": resource}]
        },
        **extra,
    }


def test_policy_evaluation():
    assert authorizer.evaluate_policy(_policy("Allow", ARN), ARN).status == 200
    assert (
        authorizer.evaluate_policy(_policy("Allow", "arn:aws:execute-api:*:*:abc/*"), ARN).status
        == 200
    )
    assert authorizer.evaluate_policy(_policy("Deny", ARN), ARN).status == 403
    assert (
        authorizer.evaluate_policy(_policy("Allow", "arn:aws:execute-api:*:*:other/*"), ARN).status
        == 403
    )
    assert authorizer.evaluate_policy({"principalId": "u"}, ARN).status == 500
    ok = authorizer.evaluate_policy(_policy("Allow", ARN, context={"a": 1}), ARN)
    assert ok.authorizer == {"principalId": "u", "a": 1}
    assert authorizer.outcome_for_error("Unauthorized").status == 401
    assert authorizer.outcome_for_error("Unauthorized!").status == 500


def test_identity_sources_missing_or_empty():
    sources = ["route.request.header.Authorization", "route.request.querystring.token"]
    assert (
        authorizer.missing_identity_sources(sources, {"authorization": "x"}, {"token": "t"}) == []
    )
    assert authorizer.missing_identity_sources(sources, {"Authorization": ""}, {"token": "t"}) == [
        sources[0]
    ]
    assert authorizer.missing_identity_sources(sources, {"Authorization": "x"}, {}) == [sources[1]]
