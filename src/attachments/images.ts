import type SharpModule from 'sharp'
import type { Logger } from '../observability/logger'

/** Longest side of a thumbnail, in pixels. */
export const THUMBNAIL_SIZE = 320

/** What an image upload yields besides its bytes: dimensions, and a small WebP to preview it by. */
export interface ImageInfo {
  width: number | null
  height: number | null
  thumbnail: Uint8Array | null
}

type Sharp = typeof SharpModule
let sharpModule: Promise<Sharp | null> | null = null

/** sharp, loaded on first use; null when its native part cannot load (then images get no thumbnail). */
function loadSharp(logger: Logger): Promise<Sharp | null> {
  sharpModule ??= import('sharp').then(
    (m) => m.default,
    (error) => {
      logger.warn({ err: error }, 'sharp cannot load: images are stored without dimensions or thumbnails')
      return null
    },
  )
  return sharpModule
}

/**
 * Reads an image file's dimensions and makes its thumbnail, with sharp. A file that passes type
 * detection but does not decode is kept as it is, without them: it is still a file to download.
 */
export async function inspectImage(path: string, logger: Logger): Promise<ImageInfo> {
  const sharp = await loadSharp(logger)
  if (!sharp) return { width: null, height: null, thumbnail: null }
  try {
    // Bounded, so that a small file that decodes to a huge canvas (a decompression bomb) is refused.
    const image = sharp(path, { limitInputPixels: 100_000_000, animated: false })
    const meta = await image.metadata()
    const thumbnail = await image.rotate().resize(THUMBNAIL_SIZE, THUMBNAIL_SIZE, { fit: 'inside', withoutEnlargement: true }).webp({ quality: 75 }).toBuffer()
    // EXIF orientations 5 to 8 turn the picture a quarter: its shown width is the stored height.
    const turned = (meta.orientation ?? 1) >= 5
    return { width: (turned ? meta.height : meta.width) ?? null, height: (turned ? meta.width : meta.height) ?? null, thumbnail }
  } catch (error) {
    logger.info({ err: error }, 'an uploaded image does not decode: stored without a thumbnail')
    return { width: null, height: null, thumbnail: null }
  }
}
