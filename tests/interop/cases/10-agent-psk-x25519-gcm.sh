#!/bin/bash
# ikeshift-agent against strongSwan 5.9.8: IKE SA and CHILD SA with PSK,
# Curve25519 and AES-GCM-16 (the client's proposal is pinned to
# aes128gcm16-prfsha256-x25519).  The client uses kernel-libipsec, asks for
# a virtual IP (vips = 0.0.0.0) and a CHILD SA to an inner subnet, and must
# get an address from the agent's pool.  swanctl --list-sas, the agent's SA
# list and the decrypted capture must agree.

# shellcheck disable=SC2034 # run.sh reads CASE_TIMEOUT from this file
CASE_TIMEOUT=30

set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../lib/netns.sh
. "$HERE/../lib/netns.sh"
# shellcheck source=../lib/charon.sh
. "$HERE/../lib/charon.sh"
# shellcheck source=../lib/capture.sh
. "$HERE/../lib/capture.sh"
# shellcheck source=../agent/agent.sh
. "$HERE/../agent/agent.sh"
# shellcheck source=../agent/common.sh
. "$HERE/../agent/common.sh"

PROPOSAL=aes128gcm16-prfsha256-x25519
SELECTED=AES_GCM_16_128/PRF_HMAC_SHA2_256/CURVE_25519

ag_require
lab_init || lab_fail "lab setup failed"
ac_basic_case "$PROPOSAL" "$SELECTED" aes128gcm16
exit 0
