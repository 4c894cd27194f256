"""A REQUEST authorizer whose answer depends on the token it is given."""

from recorder import record


def policy(effect, resource, context=None):
    result = {
        "principalId": "alice",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}],
        },
    }
    if context is not None:
        result["context"] = context
    return result


def handler(event, context):
    record("authorize", event, context)
    token = event["headers"].get("Authorization")
    if token == "allow":
        return policy("Allow", event["methodArn"], {"user": "alice", "level": 3, "admin": True})
    if token == "wildcard":
        return policy("Allow", "arn:aws:execute-api:*:*:*/*/$connect")
    if token == "deny":
        return policy("Deny", event["methodArn"])
    if token == "unauthorized":
        raise Exception("Unauthorized")
    if token == "nested":
        return policy("Allow", event["methodArn"], {"user": {"name": "alice"}})
    raise ValueError("the authorizer has a bug")
