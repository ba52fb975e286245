import { describe, expect, test } from 'bun:test'
import { startServer } from '../helpers/server'
import { pdfBytes, pngOf } from '../helpers/uploads'
import { artifactPath, BROWSER_TEST_MS, bubble, hasChromium, openAs, openChat, sendMessage, sharedBrowser } from './browser'

describe.skipIf(!hasChromium)('attachments in headless Chromium', () => {
  const browser = sharedBrowser()

  test('two pages exchange an image (attached, then pasted) and a PDF: upload, send, receive, preview, download', async () => {
    await using server = await startServer()
    const alice = await openAs(browser(), server.url, 1)
    const bob = await openAs(browser(), server.url, 2)
    await openChat(bob, 'Alice')
    await openChat(alice, 'Bob')
    await sendMessage(alice, 'Here comes a picture')
    await bubble(bob, 'Here comes a picture').waitFor()

    // Attach: the button opens the file chooser; what is typed becomes the caption.
    const png = await pngOf(240, 160, '#e4572e')
    await alice.getByLabel('Message', { exact: true }).fill('The sunset')
    const chooser = alice.waitForEvent('filechooser')
    await alice.getByRole('button', { name: 'Attach a file' }).click()
    await (await chooser).setFiles({ name: 'sunset.png', mimeType: 'image/png', buffer: Buffer.from(png) })
    const received = bubble(bob, 'The sunset')
    await received.locator('.attachments img[alt="sunset.png"]').waitFor()
    // The preview has loaded (the thumbnail, through the client with the user's identity).
    await bob.waitForFunction(() => {
      const img = document.querySelector<HTMLImageElement>('.attachments img[alt="sunset.png"]')
      return img !== null && img.complete && img.naturalWidth > 0
    })
    await bubble(alice, 'The sunset').locator('.tick[aria-label="read"]').waitFor()

    // Bob sends a PDF back; Alice downloads it by its link.
    const pdf = pdfBytes()
    const pdfChooser = bob.waitForEvent('filechooser')
    await bob.getByRole('button', { name: 'Attach a file' }).click()
    await (await pdfChooser).setFiles({ name: 'minutes.pdf', mimeType: 'application/pdf', buffer: Buffer.from(pdf) })
    const link = alice.locator('#messages .attachments a.file', { hasText: 'minutes.pdf' })
    await link.waitFor()
    const download = alice.waitForEvent('download')
    await link.click()
    const saved = await download
    expect(saved.suggestedFilename()).toBe('minutes.pdf')
    expect(new Uint8Array(await Bun.file((await saved.path())!).arrayBuffer())).toEqual(pdf)

    // Clicking the image downloads the original, byte for byte.
    const imageDownload = bob.waitForEvent('download')
    await received.locator('img').click()
    const original = await imageDownload
    expect(new Uint8Array(await Bun.file((await original.path())!).arrayBuffer())).toEqual(png)

    // A pasted image is sent like an attached one.
    const pasted = await pngOf(120, 90, '#2e86ab')
    await alice.getByLabel('Message', { exact: true }).focus()
    await alice.evaluate((bytes) => {
      const data = new DataTransfer()
      data.items.add(new File([new Uint8Array(bytes)], 'screenshot.png', { type: 'image/png' }))
      document.getElementById('message')!.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }))
    }, [...pasted])
    await bob.locator('.attachments img[alt="screenshot.png"]').waitFor()
    await bob.waitForFunction(() => document.querySelector<HTMLImageElement>('.attachments img[alt="screenshot.png"]')?.naturalWidth! > 0)

    // After a reload (the page signs in again by itself), history shows the same bubbles.
    await bob.reload()
    await bob.locator('#state[data-state="open"]').waitFor()
    await openChat(bob, 'Alice')
    await bob.locator('.attachments img[alt="sunset.png"]').waitFor()
    await bob.locator('.attachments a.file', { hasText: 'minutes.pdf' }).waitFor()
    await bob.waitForFunction(() => [...document.querySelectorAll<HTMLImageElement>('.attachments img')].every((img) => img.complete && img.naturalWidth > 0))

    await bob.screenshot({ path: artifactPath('attachments-bob.png') })
    await alice.screenshot({ path: artifactPath('attachments-alice.png') })
    await alice.context().close()
    await bob.context().close()
  }, BROWSER_TEST_MS)
})
