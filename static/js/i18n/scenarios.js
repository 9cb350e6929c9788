// The ready-made scenarios' explanations, {en, zh}, loaded the first time a scenario is shown (lessons.js):
// most visits never open one, so the page does not download them up front.

/** The scenario texts by language (keys sc.<id>.text). */
export const table = {
  en: {
    "sc.xor.text":
      "With no hidden layer the network is logistic regression: its decision boundary is one straight line, and no line separates XOR's four quadrants — the loss stays near 0.69. Add a hidden layer (+ under Network) with 2 to 4 units and play again; or keep no hidden layer and add the feature x₁x₂, which makes the problem linear.",
    "sc.symmetry.text":
      "Every weight starts at 0, so the units of each hidden layer start identical — and stay identical: they get the same δ and the same update at every step (see the badge and the equal rows of Θ in the inspector). The network cannot do better than one unit per layer, and the loss stays near 0.69. Press “Now try xavier” to break the symmetry.",
    "sc.vanishing.text":
      "Six sigmoid layers: δ is multiplied by g′(z) ≤ ¼ at every layer on its way back, so the gradient of the first layers is thousands of times smaller than the last one's — see the gradient chart (log scale), one line per layer. The first layers hardly learn. Switch the activation to tanh or relu and compare.",
    "sc.diverge.text":
      "With α = 3 every step overshoots the minimum by more than it corrects: the weights and the gradient grow by orders of magnitude each step (the gradient chart shoots up) until the numbers overflow and the run stops as diverged. Reset with a learning rate of 0.03 and it converges.",
    "sc.overfit.text":
      "Few noisy points and a big network: without regularization it learns the noise — the training loss goes to 0 while the test loss climbs. L2 (λ = 0.3) keeps the weights small and the boundary smooth, and the test loss stays low. Set Regularization to none, press Reset, and watch the two loss curves part.",
    "sc.spiral.text":
      "The spiral is hard from x₁ and x₂ alone. Given x₁², x₂², x₁x₂ and the sines as inputs, a small network bends its boundary around the arms much sooner. Switch features off one by one to see which ones matter.",
  },
  zh: {
    "sc.xor.text":
      "没有隐藏层时，网络就是逻辑回归：它的决策边界是一条直线，而没有任何直线能分开异或的四个象限 —— 损失停在 0.69 附近。在“网络”下添加一个 2 到 4 个单元的隐藏层（+），再运行；或者不加隐藏层，而是加入特征 x₁x₂，问题就变成线性可分的了。",
    "sc.symmetry.text":
      "所有权重都从 0 开始，因此每个隐藏层的单元一开始完全相同 —— 而且一直相同：每一步它们得到相同的 δ 和相同的更新（见徽标，以及检查器中 Θ 相同的各行）。网络的能力不会超过每层一个单元，损失停在 0.69 附近。按“改用 xavier 试试”来打破对称。",
    "sc.vanishing.text":
      "六个 sigmoid 层：δ 在反向传播的每一层都要乘以 g′(z) ≤ ¼，所以前几层的梯度比最后一层小几千倍 —— 看梯度图（对数坐标），每层一条线。前几层几乎学不动。把激活函数换成 tanh 或 relu 对比一下。",
    "sc.diverge.text":
      "α = 3 时，每一步都越过最小值，而且越过的比修正的还多：权重和梯度每一步都增长几个数量级（梯度图急剧上升），直到数值溢出，训练以“发散”停止。把学习率设为 0.03 并重置，就会收敛。",
    "sc.overfit.text":
      "数据点少且有噪声，网络却很大：不加正则化时它会学到噪声 —— 训练损失趋于 0，测试损失却上升。L2（λ = 0.3）让权重保持较小、边界保持平滑，测试损失保持较低。把正则化设为“无”，按重置，看两条损失曲线分开。",
    "sc.spiral.text":
      "只用 x₁ 和 x₂ 很难分开螺旋。把 x₁²、x₂²、x₁x₂ 和正弦也作为输入，一个小网络就能更快地把边界弯绕到螺旋臂周围。逐个关闭特征，看看哪些最重要。",
  },
};
