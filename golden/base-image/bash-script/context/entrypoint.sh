#!/bin/bash
set -euo pipefail
exec node server.js
