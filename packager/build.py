#!/usr/bin/env python3
"""Entry point Terraform runs (data "external" and the apply-time local-exec); see wsgate_pack."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from wsgate_pack.cli import main

if __name__ == "__main__":
    sys.exit(main())
