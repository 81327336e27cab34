# Headless Chromium for the dashboard's browser test: sourced by .ci/run, or by hand:
#
#     source .ci/chromium.sh && chromium_install && cargo test -p cidata-cli dashboard
#
# chromium_install installs Debian's `chromium` if no Chromium is on PATH, and exports
# CIDATA_CHROMIUM, the browser the test starts (`--headless --no-sandbox ...`).

source "$(dirname "${BASH_SOURCE[0]}")/apt.sh"

chromium_path() {
    command -v chromium || command -v chromium-browser || command -v google-chrome || true
}

chromium_install() {
    if [ -z "$(chromium_path)" ]; then
        echo "installing Chromium from Debian's packages"
        apt_install chromium
    fi
    CIDATA_CHROMIUM="$(chromium_path)"
    [ -n "$CIDATA_CHROMIUM" ] || return 1
    export CIDATA_CHROMIUM
}
