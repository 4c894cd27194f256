"""DynamoDB for the local gateway: moto's server on 127.0.0.1, in this process, on a free port.

The table is created with the schema the Terraform module declares: ``pk`` (S, hash), ``sk``
(S, range), on-demand billing, TTL on ``ttl``.
"""

from __future__ import annotations

import logging
from typing import Any


class LocalDynamo:
    """A running moto server holding the connection table."""

    def __init__(self, table_name: str, region: str = "us-east-1") -> None:
        self.table_name = table_name
        self.region = region
        self._server: Any = None
        self.url = ""

    def start(self) -> str:
        """Start the server and create the table; returns the endpoint URL."""
        from moto.server import ThreadedMotoServer

        # werkzeug logs every request at INFO; the gateway has its own event log.
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.url = f"http://{host}:{port}"
        self.create_table()
        return self.url

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "dynamodb",
            endpoint_url=self.url,
            region_name=self.region,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def create_table(self) -> None:
        client = self.client()
        client.create_table(
            TableName=self.table_name,
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        client.update_time_to_live(
            TableName=self.table_name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": "ttl"},
        )

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
