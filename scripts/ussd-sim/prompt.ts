/** What the terminal simulator reads from a screen it cannot be told: whether it asks for a PIN (not to echo it). */

/**
 * Whether a screen asks for a PIN. The wire does not say which input a screen expects, so this reads its last line,
 * the prompt, in any of the three languages ("Enter your PIN", "Entrez votre PIN", "Weka PIN yako"); a menu whose
 * last option mentions the PIN ("8. Change PIN") is not a PIN prompt.
 */
export function asksForPin(message: string): boolean {
  const prompt = message.trimEnd().split('\n').pop() ?? '';
  return !/^\d+\.\s/.test(prompt) && /\bPIN\b/i.test(prompt);
}
