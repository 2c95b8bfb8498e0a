/**
 * Playwright configuration: Galata's defaults, Debian's chromium, and two web servers
 * (the fake model server, then JupyterLab configured by jupyter_server_test_config.py).
 */
const fs = require('fs');
const os = require('os');
const path = require('path');
const baseConfig = require('@jupyterlab/galata/lib/playwright-config');

const FAKE_MODEL_PORT = 11435;
// The Jupyter server's log (noisy: kernels, Jupyter AI's optional providers, Galata deleting
// each test's folder) goes to this file, or to the console with JAI_UI_TEST_SERVER_LOG=console.
const SERVER_LOG = path.join(__dirname, 'jupyter-server.log');
const toLog = process.env.JAI_UI_TEST_SERVER_LOG === 'console' ? '' : ` > "${SERVER_LOG}" 2>&1`;

// One scratch home per run for Jupyter's data/config/settings/workspaces/runtime dirs and the
// server's root dir, so nothing saved by an earlier run or on this machine leaks in (Jupyter AI
// keeps its model choice in $JUPYTER_DATA_DIR/jupyter_ai/config.json). Workers load this file
// too and inherit process.env, so they reuse the runner's directory; only the runner removes it.
if (!process.env.JAI_UI_TEST_HOME) {
  const created = fs.mkdtempSync(path.join(os.tmpdir(), 'jai-ui-tests-'));
  process.env.JAI_UI_TEST_HOME = created;
  if (!process.env.JAI_UI_TEST_KEEP_HOME) {
    process.on('exit', () => fs.rmSync(created, { recursive: true, force: true }));
  }
}
const home = process.env.JAI_UI_TEST_HOME;
const jupyterEnv = {
  JUPYTER_DATA_DIR: path.join(home, 'data'),
  JUPYTER_CONFIG_DIR: path.join(home, 'config'),
  JUPYTER_RUNTIME_DIR: path.join(home, 'runtime'),
  JUPYTERLAB_SETTINGS_DIR: path.join(home, 'settings'),
  JUPYTERLAB_WORKSPACES_DIR: path.join(home, 'workspaces'),
  JUPYTERLAB_GALATA_ROOT_DIR: path.join(home, 'root'),
  JAI_FAKE_MODEL_URL: `http://127.0.0.1:${FAKE_MODEL_PORT}`
};

module.exports = {
  ...baseConfig,
  reporter: [['list']],
  timeout: 30000,
  expect: { timeout: 5000 },
  // CI on a loaded 2-core machine: a test that fails once runs once more and is then listed as
  // "flaky" in the log (both runs failing fails the pass); locally every failure counts.
  retries: process.env.CI ? 1 : 0,
  workers: 1,
  use: {
    ...baseConfig.use,
    video: 'off',
    trace: 'off',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage']
    }
  },
  webServer: [
    {
      // JAI_UI_TEST_FAKE_PYTHON: a Python with the test extras, when `jupyter` on PATH is a
      // default install without them (the default-install pass of .ci/run)
      command: `${process.env.JAI_UI_TEST_FAKE_PYTHON || 'python'} fake_model_server.py ${FAKE_MODEL_PORT}`,
      url: `http://127.0.0.1:${FAKE_MODEL_PORT}/api/version`,
      timeout: 30 * 1000,
      reuseExistingServer: false,
      gracefulShutdown: { signal: 'SIGTERM', timeout: 2000 }
    },
    {
      command: `jupyter lab --config jupyter_server_test_config.py${toLog}`,
      url: 'http://localhost:8888/lab',
      env: jupyterEnv,
      timeout: 120 * 1000,
      reuseExistingServer: false,
      gracefulShutdown: { signal: 'SIGTERM', timeout: 5000 }
    }
  ]
};
