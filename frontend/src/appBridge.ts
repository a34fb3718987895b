// The part of App Bridge's global `shopify` this page uses. Shopify's CDN
// script provides it inside the admin; the demo's local stand-in provides the
// same surface against the simulator.

export interface ToastOptions {
  duration?: number;
  isError?: boolean;
}

export interface AppBridge {
  idToken(): Promise<string>;
  toast?: {show(message: string, options?: ToastOptions): unknown};
  config?: {apiKey?: string; shop?: string; host?: string; locale?: string};
}

declare global {
  interface Window {
    shopify?: AppBridge;
  }
}

export class AppBridgeMissingError extends Error {
  constructor() {
    super('App Bridge did not load. Open the app from your Shopify admin.');
    this.name = 'AppBridgeMissingError';
  }
}

export function appBridge(): AppBridge | undefined {
  return typeof window === 'undefined' ? undefined : window.shopify;
}

// sessionToken asks App Bridge for a fresh session token. App Bridge caches
// and renews tokens itself, so calling it per request is the intended use.
export async function sessionToken(): Promise<string> {
  const bridge = appBridge();
  if (!bridge || typeof bridge.idToken !== 'function') throw new AppBridgeMissingError();
  return bridge.idToken();
}

export function toast(message: string, options?: ToastOptions): void {
  appBridge()?.toast?.show(message, options);
}
