#!/usr/bin/env bash
# Make sure a Chromium is here for the build's backend verification and the browser tests:
# `make setup` runs this, so `make site` and `make test` never go on without one.
# Finds one, else installs one (Playwright's own download, else the distribution's package where
# this user may install packages), else prints one line saying what to run and exits 1.
# SITEGEN_NO_BROWSER_INSTALL=1 only looks. Standalone on purpose: it runs before sitegen is usable.
set -uo pipefail

VENV=${VENV:-.venv}
PLAYWRIGHT_TIMEOUT=${PLAYWRIGHT_TIMEOUT:-300}  # a real download is ~170 MB; a blocked one fails fast
# The names sitegen looks for (sitegen/site/browser.py's SYSTEM_BROWSERS), and Playwright's own.
SYSTEM_BROWSERS="chromium chromium-browser google-chrome google-chrome-stable"

say() { echo "sitegen: $*"; }

playwright_chromium() {
  # Where Playwright keeps its own Chromium; printed only when it is installed there.
  local path
  path=$("$VENV/bin/python" -c 'from playwright.sync_api import sync_playwright
with sync_playwright() as p: print(p.chromium.executable_path)' 2>/dev/null) || return 1
  [ -f "$path" ] && echo "$path"
}

find_chromium() {
  local name
  for name in $SYSTEM_BROWSERS; do
    command -v "$name" && return 0
  done
  playwright_chromium
}

found=$(find_chromium) && exit 0  # the usual case: nothing to do, nothing printed

# What a person would run, for the one line printed when this script cannot do it itself.
if command -v dnf >/dev/null; then
  manager="dnf install chromium"
elif command -v pacman >/dev/null; then
  manager="pacman -S chromium"
else
  manager="apt-get install chromium"
fi

give_up() {
  echo "sitegen: no Chromium found and $1; run: sudo $manager" \
    "(or: $VENV/bin/playwright install chromium)" >&2
  exit 1
}

[ "${SITEGEN_NO_BROWSER_INSTALL:-}" = 1 ] && give_up "SITEGEN_NO_BROWSER_INSTALL=1 says not to install one"

log=$(mktemp -t sitegen-chromium.XXXXXX.log)
trap 'rm -f "$log"' EXIT

# 1. Playwright's own build, where its download server can be reached. Its Chromium needs
#    shared libraries that a bare machine may lack, so it counts only if it starts.
if [ -x "$VENV/bin/playwright" ]; then
  say "Installing Chromium with Playwright ($VENV/bin/playwright install chromium)…"
  if timeout "$PLAYWRIGHT_TIMEOUT" "$VENV/bin/playwright" install chromium >"$log" 2>&1 &&
    own=$(playwright_chromium) && "$own" --headless --version >/dev/null 2>&1; then
    say "Chromium ready: $own"
    exit 0
  fi
  say "Playwright's download did not give a working Chromium here; trying the system's packages."
fi

# 2. The distribution's package: as root, or through sudo when it asks for no password.
if [ "$(id -u)" = 0 ]; then
  sudo=""
elif sudo -n true 2>/dev/null; then
  sudo="sudo -n"
else
  give_up "cannot install one here (not root, no passwordless sudo)"
fi

if command -v apt-get >/dev/null; then
  say "Installing Chromium from the system's packages (apt-get install chromium fonts-dejavu-core)…"
  # fonts-dejavu-core: a bare Debian has no fonts, and the page's text needs one.
  install_package() {
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
      $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core
  }
elif command -v dnf >/dev/null; then
  say "Installing Chromium from the system's packages (dnf install chromium)…"
  install_package() { $sudo dnf install -y -q chromium; }
elif command -v pacman >/dev/null; then
  say "Installing Chromium from the system's packages (pacman -S chromium)…"
  install_package() { $sudo pacman -S --noconfirm --needed chromium; }
else
  give_up "no apt-get, dnf or pacman to install one with"
fi

if ! install_package >"$log" 2>&1; then
  # One line: the package manager's last words say why (no network, a held lock, no package).
  give_up "installing it failed ($(tail -n 1 "$log"))"
fi
found=$(find_chromium) || give_up "the package installed no chromium command"
say "Chromium ready: $found"
