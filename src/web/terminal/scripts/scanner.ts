/**
 * Page script module: scans the enrollment QR code with the camera, where the browser has the Barcode
 * Detection API (Chromium on Android and desktop, among others). Elsewhere the page offers pasting only.
 * The video never leaves the page: frames are read here and the camera stops once a code is found.
 */
import { limits } from '../../../domain/limits.js';

interface DetectedBarcode {
  readonly rawValue: string;
}

interface BarcodeDetectorInstance {
  detect(source: HTMLVideoElement): Promise<DetectedBarcode[]>;
}

type BarcodeDetectorConstructor = new (options: { formats: string[] }) => BarcodeDetectorInstance;

/** Scans until a countersign enrollment URI is seen, hands it to `found`, and stops the camera. */
export async function startScanner(video: HTMLVideoElement, found: (text: string) => void): Promise<void> {
  const Detector = (window as unknown as { BarcodeDetector: BarcodeDetectorConstructor }).BarcodeDetector;
  const detector = new Detector({ formats: ['qr_code'] });
  const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' } });
  video.srcObject = stream;
  video.hidden = false;
  await video.play();
  const stop = () => {
    for (const track of stream.getTracks()) track.stop();
    video.srcObject = null;
    video.hidden = true;
  };
  const deadline = Date.now() + limits.enrollmentScanMs;
  const tick = async (): Promise<void> => {
    if (Date.now() > deadline) return stop();
    try {
      const codes = await detector.detect(video);
      const uri = codes.find((code) => code.rawValue.startsWith('countersign://enroll?'));
      if (uri !== undefined) {
        stop();
        found(uri.rawValue);
        return;
      }
    } catch {
      // A frame that cannot be read yet; try the next one.
    }
    window.setTimeout(() => void tick(), limits.enrollmentScanFrameIntervalMs);
  };
  void tick();
}
