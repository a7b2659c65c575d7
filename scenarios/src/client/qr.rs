//! The QR code a client draws in a terminal, read back with a real QR
//! decoder (`rqrr`): the contract's drawing is Unicode half blocks, each
//! character two modules stacked (`█` both, `▀` the upper, `▄` the lower,
//! a space neither), dark on light or light on dark.
//!
//! Hand-made only where no crate fits: turning the characters into the
//! grey image the decoder reads.

/// The text of the first QR code drawn in `output`, if one decodes.
pub fn decode_terminal_qr(output: &str) -> Option<String> {
    let block: Vec<Vec<char>> = output
        .lines()
        .map(|l| l.trim_end_matches('\r').chars().collect::<Vec<char>>())
        .skip_while(|l| !is_qr_line(l))
        .take_while(|l| is_qr_line(l))
        .collect();
    if block.is_empty() {
        return None;
    }
    let width = block.iter().map(Vec::len).max()?;
    let height = block.len() * 2;
    // Module (x, y) is "ink" when its half of the character is drawn.
    let ink = |x: usize, y: usize| -> bool {
        let c = block.get(y / 2).and_then(|l| l.get(x)).copied().unwrap_or(' ');
        matches!((c, y % 2), ('█', _) | ('▀', 0) | ('▄', 1))
    };
    // Ink is dark on paper, light on a terminal's dark background: try both.
    [false, true].into_iter().find_map(|ink_is_light| {
        // A quiet zone of 4 modules around, each module 4 pixels wide.
        const SCALE: usize = 4;
        const QUIET: usize = 4;
        let (w, h) = ((width + 2 * QUIET) * SCALE, (height + 2 * QUIET) * SCALE);
        let mut image = rqrr::PreparedImage::prepare_from_greyscale(w, h, |px, py| {
            let (mx, my) = (px / SCALE, py / SCALE);
            let inside = mx >= QUIET && my >= QUIET && mx < width + QUIET && my < height + QUIET;
            let drawn = inside && ink(mx - QUIET, my - QUIET);
            // Dark modules are 0; the quiet zone is light.
            if inside && drawn != ink_is_light { 0 } else { 255 }
        });
        image
            .detect_grids()
            .into_iter()
            .find_map(|grid| grid.decode().ok().map(|(_, text)| text))
    })
}

fn is_qr_line(line: &[char]) -> bool {
    line.len() >= 10 && line.iter().all(|c| matches!(c, '█' | '▀' | '▄' | ' ')) && line.iter().any(|c| *c != ' ')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reference_clients_qr_code_reads_back() {
        let uri = "otpauth://totp/parsec.cloud:Org?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=parsec.cloud";
        let drawn = parsec_mfa_reference::totp::qr_for_terminal(uri).unwrap();
        let output = format!("Key: X\nURI: {uri}\n{drawn}\nEnter the code:");
        assert_eq!(decode_terminal_qr(&output).as_deref(), Some(uri));
        assert_eq!(decode_terminal_qr("no code here\n"), None);
    }
}
