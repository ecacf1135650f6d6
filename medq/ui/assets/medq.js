// medq chat app: Chainlit shows a failed password login as the toast "Unauthorized: credentialssignin" (its HTTP
// status text and error code) and, above the form, the generic "无法登录". Say what happened, in Chinese, in both.
(function () {
  var WRONG = "用户名或密码不正确，请重试。";
  var wrongPassword = false;
  function fix(node) {
    var text = (node.nodeValue || "").trim();
    if (text.toLowerCase() === "unauthorized: credentialssignin") {
      node.nodeValue = WRONG;
      if (!wrongPassword) { wrongPassword = true; scan(document.body); }
    } else if (wrongPassword && text === "无法登录") {
      node.nodeValue = WRONG;
    }
  }
  function scan(root) {
    if (!root) return;
    if (root.nodeType === Node.TEXT_NODE) return fix(root);
    if (!root.querySelectorAll) return;
    var walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    var nodes = [];
    while (walker.nextNode()) nodes.push(walker.currentNode);
    nodes.forEach(fix);
  }
  new MutationObserver(function (changes) {
    changes.forEach(function (change) {
      if (change.type === "characterData") return fix(change.target);
      change.addedNodes.forEach(scan);
    });
  }).observe(document.documentElement, { childList: true, subtree: true, characterData: true });
})();
