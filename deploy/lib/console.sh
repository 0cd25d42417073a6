# shellcheck shell=bash
# The console (console/, React + TypeScript + Vite): its npm packages, its
# checks and build, and the Chromium its browser tests drive. Sourced by
# deploy/test.sh and deploy/quickstart.sh after services.sh (uses say, die,
# apt_install). Every step says what it skipped and why.

OPSCONDUCTOR_NPM_CACHE="${OPSCONDUCTOR_NPM_CACHE:-$HOME/.cache/opsconductor/npm}"
# Vite 8 needs Node.js 20.19 or newer.
_console_node_min="20.19"

# Whether Node.js and npm are here and new enough (prints why not).
console_node_ok() {
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    say "Node.js/npm not found"
    return 1
  fi
  local v; v=$(node --version | sed 's/^v//')
  if [ "$(printf '%s\n%s\n' "$_console_node_min" "$v" | sort -V | head -n 1)" != "$_console_node_min" ]; then
    say "Node.js $v is too old (the console needs $_console_node_min or newer)"
    return 1
  fi
}

# Debian's chromium for the browser tests (never a Playwright browser
# download) and a font for readable screenshots. Exports CHROMIUM.
ensure_chromium() {
  export CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
  if [ -x "$CHROMIUM" ]; then
    say "chromium present ($CHROMIUM): not installing it"
  else
    apt_install chromium
  fi
  if command -v fc-list >/dev/null && fc-list | grep -qi 'liberation'; then
    return 0
  fi
  apt_install fonts-liberation
}

# `npm ci` when console/node_modules is missing or package-lock.json changed
# since the last install (its hash is kept inside node_modules).
console_deps() {
  local stamp=console/node_modules/.opsconductor-lockfile-sha256 want
  want=$(sha256sum console/package-lock.json | cut -d' ' -f1)
  if [ -d console/node_modules ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    say "console: node_modules matches package-lock.json: npm ci skipped"
    return 0
  fi
  say "console: npm ci (npm cache $OPSCONDUCTOR_NPM_CACHE)"
  mkdir -p "$OPSCONDUCTOR_NPM_CACHE"
  (cd console && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --cache "$OPSCONDUCTOR_NPM_CACHE" \
    --prefer-offline --no-audit --no-fund --loglevel=error)
  echo "$want" >"$stamp"
}

# A hash of everything the console's checks and build read.
_console_sources_hash() {
  (cd console && find src e2e public index.html package.json package-lock.json \
    tsconfig.json vite.config.ts playwright.config.ts eslint.config.js \
    -type f -print0 2>/dev/null | sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
}

# Builds console/dist into a fresh folder and swaps it in, so a browser
# test serving the old one never sees a half-written folder.
_console_build() {
  local next=".dist-next-$$"
  (cd console && rm -rf "$next" && npm run --silent build -- --outDir "$next" --emptyOutDir)
  rm -rf "console/.dist-old-$$"
  [ -d console/dist ] && mv console/dist "console/.dist-old-$$"
  mv "console/$next" console/dist
  rm -rf "console/.dist-old-$$"
}

# Lint, type check, unit tests (Vitest) and the build, unless the console's
# sources are exactly those whose checks last passed and dist/ is there.
# OPSCONDUCTOR_CONSOLE_CHECK=0 skips them (saying so). Serialised across
# concurrent runs of this script.
console_check_and_build() {
  if [ "${OPSCONDUCTOR_CONSOLE_CHECK:-}" = 0 ]; then
    say "console: OPSCONDUCTOR_CONSOLE_CHECK=0: lint, typecheck, unit tests and build skipped (console/dist as it is)"
    return 0
  fi
  exec 8>"$OPSCONDUCTOR_STATE_DIR/console.lock"
  flock 8
  console_deps
  local stamp=console/node_modules/.opsconductor-checked-sha256 now
  now=$(_console_sources_hash)
  if [ -f console/dist/index.html ] && [ "$(cat "$stamp" 2>/dev/null)" = "$now" ]; then
    say "console: sources unchanged since their checks last passed: lint, typecheck, unit tests and build skipped"
  else
    say "console: npm run lint"
    (cd console && npm run --silent lint)
    say "console: npm run typecheck"
    (cd console && npm run --silent typecheck)
    say "console: npm test (vitest)"
    (cd console && npm test --silent)
    say "console: npm run build"
    _console_build
    echo "$now" >"$stamp"
  fi
  flock -u 8
  exec 8>&-
}

# For the quickstart: builds the console when console/dist is missing or
# older than its sources; without Node.js it says the console is not built
# and goes on (the binary then serves a page saying how to build it).
console_build_if_stale() {
  if ! console_node_ok; then
    say "the console is not built (needs Node.js $_console_node_min+ and npm); the API works without it"
    return 0
  fi
  if [ -f console/dist/index.html ] \
    && [ -z "$(find console/src console/public console/index.html console/package-lock.json console/vite.config.ts \
      -newer console/dist/index.html -print -quit 2>/dev/null)" ]; then
    say "console: console/dist is newer than its sources: not rebuilding it"
    return 0
  fi
  say "building the console (console/dist is missing or older than console/src)"
  exec 8>"$OPSCONDUCTOR_STATE_DIR/console.lock"
  flock 8
  console_deps
  _console_build
  flock -u 8
  exec 8>&-
}
