import { expect, galata, test } from '@jupyterlab/galata';
import type { Locator, Page } from '@playwright/test';
import * as path from 'path';

import { FIRST, MODEL, saveScreenshot, typeAnswerPrefix } from './helpers';

const SCREENSHOTS = path.resolve(__dirname, '..', 'screenshots');

// Sharp screenshots for the README.
test.use({ deviceScaleFactor: 2 });

function statusItem(page: Page): Locator {
  return page.locator('#jp-main-statusbar .jp-AIInline-status');
}

/** The status bar item with a few pixels of the bar around it. */
async function screenshotItem(page: Page, item: Locator, file: string): Promise<void> {
  const box = (await item.boundingBox())!;
  const bar = (await page.locator('#jp-main-statusbar').boundingBox())!;
  await saveScreenshot(page, path.join(SCREENSHOTS, file), {
    x: Math.max(bar.x, box.x - 8),
    y: bar.y,
    width: box.width + 16,
    height: bar.height
  });
}

test('status bar: the model, idle, and the last time to first token', async ({ page }) => {
  const item = statusItem(page);
  await expect(item.locator('.jp-AIInline-label')).toContainText(MODEL);
  await expect(item).toHaveAttribute('data-state', 'idle');

  await page.notebook.createNew();
  await page.notebook.enterCellEditingMode(0);
  await typeAnswerPrefix(page);
  await expect(page.locator('.jp-GhostText')).toHaveText(FIRST);
  await expect(item).toHaveAttribute('data-state', 'idle');
  await expect(item.locator('.jp-AIInline-detail')).toHaveText(/^\d+ ms$/);
  await expect(item).toHaveAttribute(
    'title',
    new RegExp(`^AI inline completions: idle\\nModel: \\S*${MODEL} \\(ollama\\), chosen in the AI inline settings`)
  );

  await screenshotItem(page, item, 'status-bar.png');
});

test.describe('with the model server down', () => {
  test.use({
    autoGoto: false, // watch the websocket from the start
    mockSettings: {
      ...galata.DEFAULT_SETTINGS,
      // Nothing listens on the discard port.
      'jupyter-ai-inline:plugin': { baseUrl: 'http://127.0.0.1:9' }
    }
  });

  test('status bar: an error state with a one-line message, and one notification', async ({
    page
  }) => {
    // The requests the server answered with an error.
    const failed = new Set<number>();
    page.on('websocket', ws => {
      if (ws.url().includes('jupyter-ai-inline/completions')) {
        ws.on('framereceived', ({ payload }) => {
          const message = JSON.parse(String(payload));
          if (message.error && typeof message.reply_to === 'number') {
            failed.add(message.reply_to);
          }
        });
      }
    });
    await page.goto();

    const item = statusItem(page);
    await expect(item.locator('.jp-AIInline-label')).toContainText(MODEL);

    await page.notebook.createNew();
    await page.notebook.enterCellEditingMode(0);
    await typeAnswerPrefix(page);

    await expect(item).toHaveAttribute('data-state', 'error');
    const detail = item.locator('.jp-AIInline-detail');
    // the model server's error (a connection message may show for a moment before it)
    await expect(detail).toHaveText(/127\.0\.0\.1:9/);
    const message = (await detail.textContent()) ?? '';
    expect(message).not.toContain('\n');
    expect(message).not.toMatch(/Traceback|File "/);
    expect(message.length).toBeLessThan(200);
    expect(message).toMatch(/127\.0\.0\.1:9/);

    // No suggestion, only JupyterLab's error indicator in the ghost text, titled with the error.
    const ghost = page.locator('.jp-GhostText');
    await expect(ghost).toHaveText('');
    await expect(ghost.locator('.jp-GhostText-errorIndicator')).toHaveAttribute('title', message);

    // A second failed request: still one notification.
    const before = failed.size;
    expect(before).toBeGreaterThan(0);
    await page.keyboard.type('t');
    await expect.poll(() => failed.size).toBeGreaterThan(before);
    await expect(item).toHaveAttribute('data-state', 'error');
    const notifications: string[] = (
      await page.evaluate(() => (window as any).galata.getNotifications())
    ).map((n: { message: string }) => n.message);
    expect(notifications.filter(m => m.includes('AI inline'))).toEqual([`AI inline: ${message}`]);

    await screenshotItem(page, item, 'status-bar-error.png');
  });
});
