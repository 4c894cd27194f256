"""API Gateway's WebSocket semantics, each fact once: pure values and functions, stdlib only.

The runtime, the local gateway and the tests all read API Gateway's behaviour from here, so the
three cannot drift apart. Nothing in this package does I/O, and nothing is imported eagerly, so
it adds nothing to a cold start the runtime does not ask for.

* :mod:`.selection`: route selection expressions and how a message picks its route;
* :mod:`.events`: the Lambda proxy events API Gateway builds (CONNECT, MESSAGE, DISCONNECT, the
  REQUEST authorizer input), ids and time formats;
* :mod:`.proxy`: what API Gateway does with a proxy integration's return value;
* :mod:`.limits`: sizes, timeouts, close codes and ``disconnectReason`` texts;
* :mod:`.frames`: the error frames API Gateway itself sends on an open connection;
* :mod:`.management`: the @connections API's wire format (error type by status, GetConnection);
* :mod:`.hosts`: execute-api host names, loopback hosts and the management endpoint of a host;
* :mod:`.table`: the connection table's key schema (the Terraform module declares the same).

Each fact cites its source: the AWS developer guide page, the botocore service model, or the
public observation (a capture in ``tests/events``, an issue thread) it rests on.
"""
