#!/bin/bash
# ikeshift-agent against strongSwan 5.9.8: IKE SA and CHILD SA with PSK,
# MODP-2048, AES-CBC-256 and HMAC-SHA2-256 (the client's proposal is
# pinned to aes256-sha256-modp2048, the CHILD SA to aes256-sha256).  The
# client uses kernel-libipsec, asks for a virtual IP and a CHILD SA to an
# inner subnet, and must get an address from the agent's pool.

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

PROPOSAL=aes256-sha256-modp2048
SELECTED=AES_CBC_256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048

ag_require
lab_init || lab_fail "lab setup failed"
ac_basic_case "$PROPOSAL" "$SELECTED" aes256-sha256
exit 0
