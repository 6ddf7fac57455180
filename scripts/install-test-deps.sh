#!/usr/bin/env bash
# Installs the Debian packages the tests drive for real: swaks (SMTP client, with TLS), chromium
# (browser), thunderbird with xvfb and xauth, 7-Zip and Info-ZIP unzip (they open the encrypted ZIPs),
# tnef (an independent decoder of the winmail.dat samples the tests build).
# Idempotent: does nothing when they are already there.
set -euo pipefail
missing=()
command -v swaks >/dev/null 2>&1 || missing+=(swaks)
# swaks speaks TLS (--tls, --tls-on-connect) only with Net::SSLeay, which it merely recommends.
perl -MNet::SSLeay -MIO::Socket::SSL -e 1 >/dev/null 2>&1 || missing+=(libnet-ssleay-perl libio-socket-ssl-perl)
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v thunderbird >/dev/null 2>&1 || missing+=(thunderbird)
command -v xvfb-run >/dev/null 2>&1 || missing+=(xvfb)
command -v xauth >/dev/null 2>&1 || missing+=(xauth)
command -v 7z >/dev/null 2>&1 || missing+=(p7zip-full)
command -v unzip >/dev/null 2>&1 || missing+=(unzip)
command -v tnef >/dev/null 2>&1 || missing+=(tnef)
# Japanese text in the screenshots the browser tests take (the pages themselves need no font)
fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || missing+=(fonts-noto-cjk)
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}" ca-certificates
