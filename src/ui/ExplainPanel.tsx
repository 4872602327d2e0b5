// What the controls and the curves mean, with the papers. Short on purpose.
export function ExplainPanel() {
  return (
    <aside className="panel explain" aria-label="What this shows">
      <h2>What you are looking at</h2>
      <p>
        A frozen network of width <i>n</i> is fine-tuned with a rank-<i>r</i> LoRA adapter on its middle layer, <span className="mono">W₀ + s·BA</span>, to match a teacher that differs from it by a rank-<i>r*</i> update. Only <i>A</i> (<i>r</i>×<i>n</i>) and <i>B</i> (<i>n</i>×<i>r</i>) train, with AdamW.
      </p>
      <h3>Init[A] and Init[B]</h3>
      <p>
        Fine-tuning must start at the pretrained model, so <span className="mono">BA = 0</span> at step 0: one factor starts at zero. <b>Init[A]</b>, PEFT’s default, draws <i>A</i> at random and sets <i>B</i> = 0; <b>Init[B]</b> draws <i>B</i> and sets <i>A</i> = 0. As width grows, Init[B]’s first updates are amplified by <i>n</i>, so it needs η ∝ 1/<i>n</i> and turns unstable sooner. Init[A] tolerates larger rates (η ∝ 1/√<i>n</i>) and learns more efficiently, at the price of an <i>internal</i> instability: the adapter’s inner feature grows while its output stays bounded.
      </p>
      <h3>λ, LoRA+</h3>
      <p>
        <i>A</i> and <i>B</i> play different roles, and one learning rate for both is inefficient at large width. LoRA+ gives <i>B</i> the rate λ·η; λ = 1 is plain LoRA, and the paper suggests λ ≈ 2⁴.
      </p>
      <h3>The two norms</h3>
      <p>
        <b>‖Z_A‖</b> is the size of <span className="mono">Z_A = X Aᵀ</span>, the adapter’s <i>r</i>-dimensional inner feature; <b>‖Z_B‖</b> the size of <span className="mono">Z_B = s·Z_A Bᵀ</span>, what the adapter adds to the layer. Both are <b>coordinate RMS</b> (the root of the mean square entry, on the step’s batch), the size the theory expects to stay Θ(1) as <i>n</i> grows; ‖A‖, ‖B‖, ‖sBA‖ are normalised the same way.
      </p>
      <h3>What to look for</h3>
      <ul>
        <li>Under Init[A] at large width and a large η, ‖Z_A‖ climbs while ‖Z_B‖ stays put.</li>
        <li>Under Init[B] at the same η, ‖Z_B‖ jumps in the first steps, and the loss spikes or diverges (✕ on the curve).</li>
        <li>At large width, λ = 16 brings the loss down faster than λ = 1 at the same η.</li>
        <li>The toy is small: at the widths a laptop trains in seconds the effects are milder than at the papers’ <i>n</i> = 8192.</li>
      </ul>
      <h3>Papers</h3>
      <ol className="refs">
        <li>
          S. Hayou, N. Ghosh, B. Yu. <a href="https://arxiv.org/abs/2402.12354" target="_blank" rel="noreferrer">LoRA+: Efficient Low Rank Adaptation of Large Models</a>. arXiv:2402.12354 (ICML 2024).
        </li>
        <li>
          S. Hayou, N. Ghosh, B. Yu. <a href="https://arxiv.org/abs/2406.08447" target="_blank" rel="noreferrer">The Impact of Initialization on LoRA Finetuning Dynamics</a>. arXiv:2406.08447 (NeurIPS 2024).
        </li>
        <li>
          E. Hu et al. <a href="https://arxiv.org/abs/2106.09685" target="_blank" rel="noreferrer">LoRA</a>, arXiv:2106.09685; D. Kalajdzievski, <a href="https://arxiv.org/abs/2312.03732" target="_blank" rel="noreferrer">rsLoRA</a>, arXiv:2312.03732.
        </li>
      </ol>
    </aside>
  );
}
