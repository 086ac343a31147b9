package dev.ferry.proxy.engine.http1;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class TargetPathsTest {

  @Test
  void removesDotSegmentsMergesSlashesAndDecodesUnreservedEscapes() throws Exception {
    String[][] cases = {
        {"/a/b/c", "/a/b/c"},
        {"/", "/"},
        {"/a/./b/../c", "/a/c"},
        {"/a/b/..", "/a/"},
        {"/a/b/.", "/a/b/"},
        {"/a/..", "/"},
        {"//a///b//", "/a/b/"},
        {"/%61%2D%7e/x", "/a-~/x"},
        {"/a%3ab;v=1", "/a%3Ab;v=1"},
        {"/%2E%2e/", null},
        {"/a/%2e%2e/b?x=/../y", "/b?x=/../y"},
        {"/.well-known/x", "/.well-known/x"},
        {"/a..b/c.", "/a..b/c."},
    };
    for (String[] c : cases) {
      if (c[1] == null) {
        assertThatThrownBy(() -> TargetPaths.normalise(c[0])).as(c[0]).isInstanceOf(HttpFailureException.class);
      } else {
        assertThat(TargetPaths.normalise(c[0])).as(c[0]).isEqualTo(c[1]);
      }
    }
  }

  @Test
  void refusesPathsThatClimbAboveTheRootOrHideDotSegments() {
    for (String path : new String[] {"/..", "/a/../..", "/a/..%2f..", "/a/%2e%2e%5cb", "/a\\..\\b", "/a/%zz",
        "/a/%4", "/api%2Fsecret", "/a\\b", "/static/..;/api/secret", "/a/.;x/b", "/a/%2e%2e;jsessionid=1/b"}) {
      assertThatThrownBy(() -> TargetPaths.normalise(path)).as(path).isInstanceOf(HttpFailureException.class);
    }
  }

  @Test
  void returnsAPathWithNothingToNormaliseUnchanged() throws Exception {
    String target = "/api/v1/users?id=7&next=/../x";
    assertThat(TargetPaths.normalise(target)).isSameAs(target);
  }
}
